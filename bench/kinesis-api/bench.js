#!/usr/bin/env node
/**
 * `tideway kinesis-api` against kinesis-mock (the stack's, AWS_ENDPOINT_URL_KINESIS) in the same
 * run, 1 KiB records: PutRecords throughput, GetRecords throughput, PutRecords latency at a fixed
 * rate, and the service's peak RSS. Needs the local stack (`npm run stack:up`) and `npm run build`
 * first: it runs the service from dist/.
 *
 *   npm run build && node bench/kinesis-api/bench.js [records=200000] [mockRecords=20000] [latencySeconds=20] [shards=4]
 *
 * Client: raw HTTP/1.1 with the JSON 1.1 protocol (what boto3 and the JavaScript SDK send), keep-alive,
 * CONCURRENCY requests in flight. The PutRecords bodies (500 records of 1 KiB, partition keys spread
 * over every shard) are built once and reused, and GetRecords answers are read by counting their
 * records instead of decoding them (countRecords), so the client's cost is little more than writing
 * and reading bytes; the client's CPU (this process) is reported apart from the service's.
 * kinesis-mock gets an unchecked placeholder signature; the service runs with KINESIS_API_AUTH=none.
 *
 * - put: `records` records in PutRecords of 500, from the first request to the last answer; every
 *   record must be accepted (FailedRecordCount 0).
 * - get: every shard read from TRIM_HORIZON to its end with GetRecords Limit 10000, the shards
 *   concurrently; from the first request to the last record.
 * - latency (service only: kinesis-mock does not sustain 5,000 records/s): PutRecords of 50 records
 *   sent every 10 ms without waiting for earlier answers (5,000 records/s), each request's time from
 *   its send to its answer, for `latencySeconds`.
 * kinesis-mock takes `mockRecords` (it slows down as a stream fills: ~2,000 records/s put on a fresh
 * stream, ~900 once it holds 20,000; a stream of 20,000 records is 20 MiB, small for a Kinesis stream), read
 * EQUAL_PASSES times from TRIM_HORIZON; the service then does the same workload on a fresh stream of
 * its own (the same records put, the same passes read), so the ratios compare like with like as
 * well as the service's large-stream rates with kinesis-mock's small-stream ones.
 * CPU per record (µs CPU/record): user + system CPU of the process over the interval / records — the
 * service, kinesis-mock (BENCH_KINESIS_MOCK_PID, else .stack/run/kinesis.pid), this client, and the
 * broker for the service's runs (BENCH_BROKER_PID, else .stack/run/kafka.pid).
 * Each figure prints its line and `RESULT {json}` (bench/kit.js). Everything it creates is named
 * bench-kapi-<random> and deleted at the end.
 */
'use strict';
const http = require('node:http');
const { randomBytes } = require('node:crypto');
const { readFileSync } = require('node:fs');
const { performance } = require('node:perf_hooks');
const { join } = require('node:path');
const kit = require('../kit');

require(join(kit.ROOT, 'test-support', 'load-stack-env.js'));
const RECORDS = Number(process.argv[2] || 200_000);
const MOCK_RECORDS = Number(process.argv[3] || 20_000);
const LATENCY_SECONDS = Number(process.argv[4] || 20);
const SHARDS = Number(process.argv[5] || 4);
const BATCH = 500;
const CONCURRENCY = 8;
const RECORD_BYTES = 1024;
const LATENCY_BATCH = 50;
const LATENCY_INTERVAL_MS = 10;
/** Reads of the whole stream in the same-workload comparison (a small stream reads in one call per shard). */
const EQUAL_PASSES = 3;
const id = randomBytes(3).toString('hex');
const prefix = `bench-kapi-${id}-`;
const stream = 'bench';
const mockStream = `bench-kapi-${id}-mock`;
const { sleep } = kit;

function mockPid() {
  if (process.env.BENCH_KINESIS_MOCK_PID) return Number(process.env.BENCH_KINESIS_MOCK_PID) || undefined;
  try {
    return Number(readFileSync(join(kit.ROOT, '.stack', 'run', 'kinesis.pid'), 'utf8').trim()) || undefined;
  } catch {
    return undefined;
  }
}

// ---- a raw JSON 1.1 Kinesis client --------------------------------------------------------

const SEQUENCE_NUMBER_MEMBER = Buffer.from('"SequenceNumber":"');

/**
 * A GetRecords answer read without decoding its records: each record has one `"SequenceNumber":"`
 * (its other strings are base64 or escaped, where that text cannot occur), and the iterator and the
 * lag are read from the answer's own text. Decoding 10,000 records with JSON.parse costs this client
 * 5–18 µs per record, more than the service spends serving it, on the same two cores.
 */
function countRecords(bytes) {
  let records = 0;
  for (let at = bytes.indexOf(SEQUENCE_NUMBER_MEMBER); at >= 0; at = bytes.indexOf(SEQUENCE_NUMBER_MEMBER, at + 1)) records++;
  const text = (name) => {
    const member = Buffer.from(`"${name}":`);
    const at = bytes.lastIndexOf(member);
    if (at < 0) return undefined;
    const rest = bytes.subarray(at + member.length, at + member.length + 2048).toString('latin1');
    return JSON.parse(/^("(?:[^"\\]|\\.)*"|[-\d.eE+]+|null)/.exec(rest)[1]);
  };
  return { records, NextShardIterator: text('NextShardIterator') ?? undefined, MillisBehindLatest: text('MillisBehindLatest') };
}

/** A raw JSON 1.1 client: `call` resolves to the parsed answer; errors reject with the AWS error type. */
function client(endpoint, { sign }) {
  const url = new URL(endpoint);
  const agent = new http.Agent({ keepAlive: true, maxSockets: CONCURRENCY + SHARDS });
  /** POSTs one operation; resolves to `read(body)` of a 200 answer's body, rejects with the AWS error type. */
  const post = (operation, body, read) =>
    new Promise((resolve, reject) => {
      const payload = Buffer.isBuffer(body) ? body : Buffer.from(JSON.stringify(body));
      const headers = { 'Content-Type': 'application/x-amz-json-1.1', 'X-Amz-Target': `Kinesis_20131202.${operation}`, 'Content-Length': payload.length };
      if (sign) {
        const date = new Date().toISOString().replace(/[-:]|\.\d+/g, '');
        headers['X-Amz-Date'] = date;
        headers.Authorization = `AWS4-HMAC-SHA256 Credential=bench/${date.slice(0, 8)}/us-east-1/kinesis/aws4_request, SignedHeaders=host;x-amz-date, Signature=00`;
      }
      const req = http.request({ host: url.hostname, port: url.port, method: 'POST', path: '/', agent, headers }, (res) => {
        const chunks = [];
        res.on('data', (c) => chunks.push(c));
        res.on('end', () => {
          const bytes = Buffer.concat(chunks);
          if (res.statusCode === 200) {
            try {
              resolve(read(bytes));
            } catch (err) {
              reject(err);
            }
            return;
          }
          let parsed;
          try {
            parsed = JSON.parse(bytes.toString('utf8'));
          } catch {
            parsed = { message: bytes.toString('utf8') };
          }
          reject(Object.assign(new Error(`${operation}: ${res.statusCode} ${parsed.__type ?? ''} ${parsed.message ?? ''}`), { type: parsed.__type }));
        });
        res.on('error', reject);
      });
      req.on('error', reject);
      req.end(payload);
    });
  const call = (operation, body) => post(operation, body, (bytes) => (bytes.length ? JSON.parse(bytes.toString('utf8')) : {}));
  /** GetRecords, its records counted rather than decoded (see countRecords). */
  const getRecords = (body) => post('GetRecords', body, countRecords);
  return { call, getRecords, close: () => agent.destroy() };
}

/** `n` PutRecords bodies of `size` 1 KiB records; partition keys differ between bodies and records, so every shard gets records. */
function putBodies(streamName, size, n) {
  const data = randomBytes(RECORD_BYTES).toString('base64');
  const bodies = [];
  for (let b = 0; b < n; b++) {
    const records = [];
    for (let i = 0; i < size; i++) records.push({ Data: data, PartitionKey: `k-${b}-${i}` });
    bodies.push(Buffer.from(JSON.stringify({ StreamName: streamName, Records: records })));
  }
  return bodies;
}

async function waitActive(api, streamName) {
  for (;;) {
    const d = await api.call('DescribeStreamSummary', { StreamName: streamName });
    if (d.StreamDescriptionSummary.StreamStatus === 'ACTIVE') return;
    await sleep(200);
  }
}

/** A measured interval over the target process, this client and (optionally) the broker. */
function interval(targetPid, broker) {
  const target = kit.measure(targetPid, { broker });
  const self = kit.measure(process.pid);
  return (records) => {
    const t = target.end(records);
    const c = self.end(records);
    return { ...t, clientCpuSeconds: c.cpuSeconds, clientCpuMicrosPerRecord: c.cpuMicrosPerRecord };
  };
}

/** PutRecords of `total` records, CONCURRENCY requests in flight. */
async function putThroughput(api, streamName, total, targetPid, broker) {
  const bodies = putBodies(streamName, BATCH, 16);
  const requests = Math.ceil(total / BATCH);
  let next = 0;
  let failed = 0;
  const end = interval(targetPid, broker);
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next < requests) {
        const n = next++;
        const r = await api.call('PutRecords', bodies[n % bodies.length]);
        failed += r.FailedRecordCount;
      }
    }),
  );
  const r = end(requests * BATCH);
  if (failed > 0) throw new Error(`${streamName}: ${failed} records refused`);
  return { records: requests * BATCH, ...r };
}

/** Every shard from TRIM_HORIZON to its end, GetRecords Limit 10000, the shards concurrently; `passes` times over. */
async function getThroughput(api, streamName, expected, targetPid, broker, passes = 1) {
  const shards = (await api.call('ListShards', { StreamName: streamName })).Shards.map((s) => s.ShardId);
  let records = 0;
  let calls = 0;
  const end = interval(targetPid, broker);
  for (let pass = 0; pass < passes; pass++) {
    await Promise.all(
      shards.map(async (ShardId) => {
        let it = (await api.call('GetShardIterator', { StreamName: streamName, ShardId, ShardIteratorType: 'TRIM_HORIZON' })).ShardIterator;
        for (;;) {
          const r = await api.getRecords({ ShardIterator: it, Limit: 10_000 });
          calls++;
          records += r.records;
          it = r.NextShardIterator;
          if (r.records === 0 && r.MillisBehindLatest === 0) return;
        }
      }),
    );
  }
  const r = end(records);
  if (records !== expected * passes) throw new Error(`${streamName}: read ${records} records, expected ${expected * passes}`);
  return { records, getRecordsCalls: calls, ...r };
}

/** PutRecords of LATENCY_BATCH records every LATENCY_INTERVAL_MS, open loop; send → answer per request. */
async function putLatency(api, streamName, seconds, targetPid, broker) {
  const bodies = putBodies(streamName, LATENCY_BATCH, 64);
  const total = Math.round((seconds * 1000) / LATENCY_INTERVAL_MS);
  const samples = [];
  const pending = [];
  let failed = 0;
  const end = interval(targetPid, broker);
  const t0 = performance.now();
  for (let n = 0; n < total; n++) {
    const due = t0 + n * LATENCY_INTERVAL_MS;
    const wait = due - performance.now();
    if (wait > 1) await sleep(wait);
    const sent = performance.now();
    pending.push(
      api.call('PutRecords', bodies[n % bodies.length]).then((r) => {
        samples.push(performance.now() - sent);
        failed += r.FailedRecordCount;
      }),
    );
  }
  await Promise.all(pending);
  const r = end(total * LATENCY_BATCH);
  if (failed > 0) throw new Error(`${streamName}: ${failed} records refused`);
  const q = kit.quantiles(samples);
  return { records: total * LATENCY_BATCH, requests: total, targetRate: (LATENCY_BATCH * 1000) / LATENCY_INTERVAL_MS, ...q, ...r };
}

/** The service's memory now, in MiB, from its metrics: where a peak RSS went (V8 heap, Buffers outside it, the rest). */
async function memoryNow(svc) {
  const text = await svc.metrics();
  const mib = (name) => Number((text.match(new RegExp(`^tideway_${name}(?:{[^}]*})? (\\S+)`, 'm')) ?? [])[1]) / 1_048_576;
  return { rss: mib('process_resident_memory_bytes'), heapTotal: mib('nodejs_heap_size_total_bytes'), external: mib('nodejs_external_memory_bytes') };
}

const memoryText = (when, m) => `${when} now ${m.rss.toFixed(0)}: V8 heap ${m.heapTotal.toFixed(0)}, Buffers ${m.external.toFixed(0)}`;
const round = (x) => Math.round(x).toLocaleString('en-US');

async function main() {
  const mock = client(process.env.AWS_ENDPOINT_URL_KINESIS || 'http://127.0.0.1:4568', { sign: true });
  const port = await kit.freePort();
  const svc = await kit.startService('kinesis-api', { KINESIS_API_AUTH: 'none', KINESIS_API_PORT: String(port), KINESIS_API_STREAM_PREFIX: prefix });
  const api = client(`http://127.0.0.1:${port}`, { sign: false });
  const cleanups = [];
  const common = { recordBytes: RECORD_BYTES, shards: SHARDS, batch: BATCH, concurrency: CONCURRENCY, client: 'raw HTTP/1.1, JSON 1.1' };
  try {
    await svc.ready();
    await api.call('CreateStream', { StreamName: stream, ShardCount: SHARDS });
    cleanups.push(() => api.call('DeleteStream', { StreamName: stream }));
    await waitActive(api, stream);
    await mock.call('CreateStream', { StreamName: mockStream, ShardCount: SHARDS });
    cleanups.push(() => mock.call('DeleteStream', { StreamName: mockStream }));
    await waitActive(mock, mockStream);
    // Warm-up on a stream of its own, not measured: connections, the producer's first metadata, JIT.
    await api.call('CreateStream', { StreamName: 'warmup', ShardCount: SHARDS });
    cleanups.push(() => api.call('DeleteStream', { StreamName: 'warmup' }));
    await waitActive(api, 'warmup');
    await putThroughput(api, 'warmup', 20 * BATCH, svc.pid, false);
    await getThroughput(api, 'warmup', 20 * BATCH, svc.pid, false);

    const put = await putThroughput(api, stream, RECORDS, svc.pid, true);
    // Peak RSS (VmHWM) so far after each phase: which phase raised it.
    put.peakRssMiB = kit.peakRssMiB(svc.pid);
    put.memory = await memoryNow(svc);
    const mockPut = await putThroughput(mock, mockStream, MOCK_RECORDS, mockPid(), false);
    const get = await getThroughput(api, stream, put.records, svc.pid, true);
    get.peakRssMiB = kit.peakRssMiB(svc.pid);
    get.memory = await memoryNow(svc);
    const mockGet = await getThroughput(mock, mockStream, mockPut.records, mockPid(), false, EQUAL_PASSES);
    // The same workload on both: a fresh stream of mockRecords, put, then read EQUAL_PASSES times.
    await api.call('CreateStream', { StreamName: 'same', ShardCount: SHARDS });
    cleanups.push(() => api.call('DeleteStream', { StreamName: 'same' }));
    await waitActive(api, 'same');
    const samePut = await putThroughput(api, 'same', MOCK_RECORDS, svc.pid, true);
    const sameGet = await getThroughput(api, 'same', samePut.records, svc.pid, true, EQUAL_PASSES);
    const lat = await putLatency(api, stream, LATENCY_SECONDS, svc.pid, true);
    const rss = kit.peakRssMiB(svc.pid);
    lat.peakRssMiB = rss;

    const line = (what, r, cpuOf) =>
      `${what}: ${round(r.rate)} records/s (${r.records} in ${r.seconds.toFixed(1)} s), ${cpuOf} ${kit.cpuText(r.cpuMicrosPerRecord)}, client ${kit.cpuText(r.clientCpuMicrosPerRecord)}` +
      (r.brokerCpuMicrosPerRecord !== undefined ? `, broker ${kit.cpuText(r.brokerCpuMicrosPerRecord)}` : '');
    kit.result('kinesis-api', 'put', { ...common, ...put }, line('kinesis-api PutRecords', put, 'service'));
    kit.result('kinesis-api', 'put-kinesis-mock', { ...common, ...mockPut }, line('kinesis-mock PutRecords', mockPut, 'kinesis-mock'));
    kit.result('kinesis-api', 'get', { ...common, ...get }, line('kinesis-api GetRecords', get, 'service'));
    kit.result(
      'kinesis-api',
      'get-kinesis-mock',
      { ...common, ...mockGet },
      line(`kinesis-mock GetRecords (its ${mockPut.records} records, ${EQUAL_PASSES} passes)`, mockGet, 'kinesis-mock'),
    );
    kit.result('kinesis-api', 'put-same', { ...common, ...samePut }, line(`kinesis-api PutRecords, the same ${samePut.records} records`, samePut, 'service'));
    kit.result(
      'kinesis-api',
      'get-same',
      { ...common, ...sameGet },
      line(`kinesis-api GetRecords, the same ${samePut.records} records, ${EQUAL_PASSES} passes`, sameGet, 'service'),
    );
    kit.result(
      'kinesis-api',
      'put-latency',
      { ...common, ...lat },
      `kinesis-api PutRecords latency at ${round(lat.rate)} records/s (${lat.requests} requests of ${LATENCY_BATCH}): p50 ${lat.p50Ms.toFixed(1)} ms, p99 ${lat.p99Ms.toFixed(1)} ms, max ${lat.maxMs.toFixed(1)} ms, service ${kit.cpuText(lat.cpuMicrosPerRecord)}`,
    );
    kit.result(
      'kinesis-api',
      'summary',
      {
        peakRssMiB: rss,
        putVsMock: put.rate / mockPut.rate,
        getVsMock: get.rate / mockGet.rate,
        samePutVsMock: samePut.rate / mockPut.rate,
        sameGetVsMock: sameGet.rate / mockGet.rate,
        mockRecords: mockPut.records,
      },
      `kinesis-api peak RSS ${rss.toFixed(0)} MiB (after put ${put.peakRssMiB.toFixed(0)}, after get ${get.peakRssMiB.toFixed(0)}; ${memoryText('after put', put.memory)}, ${memoryText('after get', get.memory)}); ` +
        `${(put.rate / mockPut.rate).toFixed(0)}× kinesis-mock's put rate, ${(get.rate / mockGet.rate).toFixed(0)}× its read rate (${RECORDS} records against kinesis-mock's ${mockPut.records}); ` +
        `the same workload: ${(samePut.rate / mockPut.rate).toFixed(0)}× put, ${(sameGet.rate / mockGet.rate).toFixed(0)}× read`,
    );
  } finally {
    for (const c of cleanups.reverse()) await c().catch((err) => console.error(`cleanup: ${err.message}`));
    // Idle keep-alive connections closed first, so the service's stop does not wait for them.
    api.close();
    mock.close();
    await svc.stop();
    // The topic, in case the service could not delete it.
    const kafka = kit.benchKafka();
    const admin = kafka.admin();
    await admin.connect();
    const left = (await admin.listTopics()).filter((t) => t.startsWith(prefix));
    if (left.length) await admin.deleteTopics(left).catch(() => undefined);
    await admin.disconnect();
  }
}

kit.run(main);
