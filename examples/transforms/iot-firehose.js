// Firehose data-transformation Lambda for IoT readings (seed 004: "temperature transformation
// and humidity filtering"). It follows the Firehose Lambda contract, so the same file runs in
// AWS Lambda behind a Firehose delivery stream and in `tideway bridge` as a route's transform.
//
//   in:  {"device_id":"sensor-001","temperature":22.5,"humidity":60}
//   out: {"device_id":"sensor-001","temperature_c":22.5,"temperature_f":72.5,"humidity":60}
//
// - temperature (Celsius) is kept as temperature_c and converted to temperature_f;
// - readings with humidity below HUMIDITY_MIN_PERCENT (default 30) are Dropped;
// - a record that is not JSON, or lacks a numeric temperature or humidity, is ProcessingFailed
//   (Firehose writes it under the error-output prefix; the bridge does the same, or DLQs it).
/* global exports */
'use strict';

const HUMIDITY_MIN_PERCENT = Number(process.env.HUMIDITY_MIN_PERCENT ?? 30);

function transformReading(reading) {
  const { temperature, humidity, ...rest } = reading;
  return {
    ...rest,
    temperature_c: temperature,
    temperature_f: Math.round(((temperature * 9) / 5 + 32) * 100) / 100,
    humidity,
  };
}

exports.handler = async (event) => {
  const records = event.records.map((record) => {
    let reading;
    try {
      reading = JSON.parse(Buffer.from(record.data, 'base64').toString('utf8'));
    } catch {
      return { recordId: record.recordId, result: 'ProcessingFailed', data: record.data };
    }
    if (reading === null || typeof reading !== 'object' || typeof reading.temperature !== 'number' || typeof reading.humidity !== 'number') {
      return { recordId: record.recordId, result: 'ProcessingFailed', data: record.data };
    }
    if (reading.humidity < HUMIDITY_MIN_PERCENT) {
      return { recordId: record.recordId, result: 'Dropped', data: record.data };
    }
    const out = JSON.stringify(transformReading(reading)) + '\n';
    return { recordId: record.recordId, result: 'Ok', data: Buffer.from(out, 'utf8').toString('base64') };
  });
  return { records };
};
