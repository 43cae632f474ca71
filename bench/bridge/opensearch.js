#!/usr/bin/env node
/**
 * Throughput of `tideway bridge` into OpenSearch (`_bulk`) for 1 KiB JSON documents, each with
 * its own Kafka key (its document id), with CPU per document of the bridge and of the OpenSearch
 * node. Needs the local stack's kafka and opensearch parts and `npm run build` first.
 *
 *   npm run build && node bench/bridge/opensearch.js [documents=50000] [sizeInMBs=5]
 *
 * The route buffers by size (sizeInMBs) or 1 s, daily indices (all documents carry one day's
 * timestamp). Time: from the first document delivered until the group committed every record;
 * then `_count` must equal the documents. CPU per document: user + system CPU of the bridge over
 * that interval, and of the node (`.stack/run/opensearch.pid`, or BENCH_OPENSEARCH_PID).
 * Everything it creates is named bench-bridge-os-<random> and deleted at the end.
 */
/* global fetch */
'use strict';
const { randomBytes } = require('node:crypto');
const { readFileSync, writeFileSync, mkdtempSync } = require('node:fs');
const { tmpdir } = require('node:os');
const { join } = require('node:path');
const kit = require('../kit');

require(join(kit.ROOT, 'test-support', 'load-stack-env.js'));
const COUNT = Number(process.argv[2] || 50_000);
const SIZE_MB = Number(process.argv[3] || 5);
const PARTITIONS = 4;
const prefix = `bench-bridge-os-${randomBytes(3).toString('hex')}`;
const topic = prefix;
const url = process.env.OPENSEARCH_URL;
const kafka = kit.benchKafka();
const DAY = Date.UTC(2025, 2, 10, 12);

function openSearchPid() {
  if (process.env.BENCH_OPENSEARCH_PID) return Number(process.env.BENCH_OPENSEARCH_PID);
  try {
    return Number(readFileSync(join(kit.ROOT, '.stack', 'run', 'opensearch.pid'), 'utf8').trim()) || undefined;
  } catch {
    return undefined;
  }
}

async function os(method, path) {
  const res = await fetch(`${url}${path}`, { method });
  if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${await res.text()}`);
  return res.json();
}

async function preload() {
  const admin = kafka.admin();
  await admin.connect();
  await admin.ensureTopics([{ topic, partitions: PARTITIONS, replicationFactor: 1 }]);
  await admin.disconnect();
  const producer = kafka.producer({ idempotent: true });
  await producer.connect();
  const pad = 'x'.repeat(1024);
  for (let i = 0; i < COUNT; i += 1000) {
    const batch = [];
    for (let j = i; j < Math.min(COUNT, i + 1000); j++) {
      const head = JSON.stringify({ seq: j, claim_id: `CLM-${j}`, status: j % 3 ? 'open' : 'settled', amount: j, pad: '' });
      batch.push({ topic, key: `CLM-${j}`, timestamp: DAY + j, value: head.replace('"pad":""', `"pad":"${pad.slice(0, 1024 - head.length)}"`) });
    }
    await producer.send(batch);
  }
  await producer.disconnect();
}

async function committedAll(group) {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const committed = await admin.committedOffsets(group, topic);
    return committed.reduce((s, c) => s + Math.max(0, Number(c.offset)), 0) >= COUNT;
  } finally {
    await admin.disconnect();
  }
}

async function main() {
  if (!url) throw new Error('OPENSEARCH_URL is not set (npm run -s stack:env)');
  console.log(`preloading ${COUNT} documents of 1 KiB into ${topic} (${PARTITIONS} partitions)…`);
  await preload();
  const file = join(mkdtempSync(join(tmpdir(), 'bench-bridge-os-')), 'routes.yaml');
  writeFileSync(
    file,
    `routes:\n  - name: ${prefix}\n    topics: [${topic}]\n    opensearch:\n      endpoint: ${url}\n      index: ${prefix}\n` +
      `      bufferingHints: { sizeInMBs: ${SIZE_MB}, intervalInSeconds: 1 }\n`,
  );
  const bridge = await kit.startService('bridge', { BRIDGE_ROUTES: file });
  try {
    await bridge.ready();
    const nodePid = openSearchPid();
    let run;
    let nodeStart;
    while (run === undefined) {
      if (/^tideway_bridge_records_delivered_total\{[^}]*\} [1-9]/m.test(await bridge.metrics())) {
        run = kit.measure(bridge.pid);
        nodeStart = nodePid ? kit.cpuSeconds(nodePid) : NaN;
      } else await kit.sleep(10);
    }
    while (!(await committedAll(`tideway-bridge-${prefix}`))) await kit.sleep(100);
    const r = run.end(COUNT);
    const nodeCpu = nodePid ? kit.cpuSeconds(nodePid) - nodeStart : NaN;
    const rss = kit.peakRssMiB(bridge.pid);
    const metrics = await bridge.metrics();
    const bulks = metrics
      .split('\n')
      .filter((l) => l.startsWith('tideway_bridge_opensearch_bulk_requests_total{'))
      .reduce((s, l) => s + Number(l.split(' ').pop()), 0);
    await os('POST', `/${prefix}-*/_refresh`);
    const { count } = await os('GET', `/${prefix}-*/_count`);
    if (count !== COUNT) throw new Error(`_count is ${count}, expected ${COUNT}`);
    const nodeMicros = +((nodeCpu * 1e6) / COUNT).toFixed(2);
    kit.result(
      'bridge',
      'opensearch',
      {
        documents: COUNT,
        documentBytes: 1024,
        sizeInMBs: SIZE_MB,
        bulkRequests: bulks,
        ...r,
        peakRssMiB: rss,
        nodeCpuSeconds: +nodeCpu.toFixed(3),
        nodeCpuMicrosPerDocument: nodeMicros,
      },
      `→ OpenSearch: ${Math.round(r.rate)} documents/s (${r.seconds.toFixed(1)} s, ${bulks} bulk requests), bridge ${kit.cpuText(r.cpuMicrosPerRecord, 'document')}, ` +
        `node ${Number.isNaN(nodeMicros) ? '?' : kit.cpuText(nodeMicros, 'document')}, bridge peak RSS ${rss} MiB`,
    );
  } finally {
    await bridge.stop();
    await fetch(`${url}/${prefix}-*`, { method: 'DELETE' }).catch(() => undefined);
    const admin = kafka.admin();
    await admin.connect();
    await admin.deleteTopics([topic]).catch(() => undefined);
    await admin.disconnect();
  }
}

kit.run(main);
