// Firehose data-transformation Lambda for change events (as `tideway cdc` writes them, Debezium's
// envelope) on their way to OpenSearch: the document is the row after the change, so an index holds
// each row's latest state (a real-time view) when the route's document id is the Kafka key.
//
//   in:  {"before":null,"after":{"claim_id":"C-1","amount":950},"op":"c","ts_ms":...,"source":{...}}
//   out: {"claim_id":"C-1","amount":950,"_table":"claims","_op":"c","_source_ts_ms":...}
//
// - deletes (no `after`) are Dropped: the view keeps the last state of a deleted row;
// - a value that is not a change event is ProcessingFailed (the bridge dead-letters it).
/* global exports */
'use strict';

exports.handler = async (event) => ({
  records: event.records.map((record) => {
    let change;
    try {
      change = JSON.parse(Buffer.from(record.data, 'base64').toString('utf8'));
    } catch {
      return { recordId: record.recordId, result: 'ProcessingFailed', data: record.data };
    }
    // Debezium's JSON converter may wrap the envelope as {schema, payload}.
    if (change && typeof change === 'object' && change.payload && typeof change.payload === 'object') change = change.payload;
    if (!change || typeof change !== 'object' || typeof change.op !== 'string' || !change.source) {
      return { recordId: record.recordId, result: 'ProcessingFailed', data: record.data };
    }
    if (!change.after) return { recordId: record.recordId, result: 'Dropped', data: record.data };
    const doc = { ...change.after, _table: change.source.table, _op: change.op, _source_ts_ms: change.source.ts_ms };
    return { recordId: record.recordId, result: 'Ok', data: Buffer.from(JSON.stringify(doc)).toString('base64') };
  }),
});
