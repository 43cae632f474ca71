#!/usr/bin/env node
// Readiness probes for the local stack: each makes one real request and exits 0 on success.
//   node scripts/stack/probe.js kafka|kinesis|moto|opensearch
// Used by up.sh/status.sh (PostgreSQL is probed with psql there).
'use strict';
/* global fetch, AbortSignal */

const path = require('node:path');

const root = path.resolve(__dirname, '..', '..');
const env = require(path.join(root, 'test-support', 'load-stack-env.js')).stackEnv();
const TIMEOUT_MS = Number(process.env.PROBE_TIMEOUT_MS || 5000);

function fromRoot(id) {
  return require(require.resolve(id, { paths: [root] }));
}

function awsConfig(endpoint) {
  const { NodeHttpHandler } = fromRoot('@smithy/node-http-handler');
  return {
    region: env.AWS_REGION,
    endpoint,
    credentials: { accessKeyId: env.AWS_ACCESS_KEY_ID, secretAccessKey: env.AWS_SECRET_ACCESS_KEY },
    requestHandler: new NodeHttpHandler({ connectionTimeout: TIMEOUT_MS, requestTimeout: TIMEOUT_MS }),
    maxAttempts: 1,
  };
}

const probes = {
  async kafka() {
    const { Kafka, logLevel } = fromRoot('kafkajs');
    const kafka = new Kafka({
      clientId: 'tideway-stack-probe',
      brokers: env.KAFKA_BROKERS.split(','),
      logLevel: logLevel.NOTHING,
      connectionTimeout: TIMEOUT_MS,
      requestTimeout: TIMEOUT_MS,
      retry: { retries: 0 },
    });
    const admin = kafka.admin();
    await admin.connect();
    try {
      const cluster = await admin.describeCluster();
      if (!cluster.brokers.length || cluster.controller === null) throw new Error('no controller yet');
      return `cluster ${cluster.clusterId}, ${cluster.brokers.length} broker(s)`;
    } finally {
      await admin.disconnect();
    }
  },
  async kinesis() {
    const { KinesisClient, ListStreamsCommand } = fromRoot('@aws-sdk/client-kinesis');
    const client = new KinesisClient(awsConfig(env.AWS_ENDPOINT_URL_KINESIS));
    try {
      const out = await client.send(new ListStreamsCommand({}));
      return `ListStreams ok (${(out.StreamNames || []).length} streams)`;
    } finally {
      client.destroy();
    }
  },
  async moto() {
    const { S3Client, ListBucketsCommand } = fromRoot('@aws-sdk/client-s3');
    const { FirehoseClient, ListDeliveryStreamsCommand } = fromRoot('@aws-sdk/client-firehose');
    const s3 = new S3Client({ ...awsConfig(env.AWS_ENDPOINT_URL_S3), forcePathStyle: true });
    const firehose = new FirehoseClient(awsConfig(env.AWS_ENDPOINT_URL_FIREHOSE));
    try {
      const b = await s3.send(new ListBucketsCommand({}));
      const f = await firehose.send(new ListDeliveryStreamsCommand({}));
      return `S3 ListBuckets ok (${(b.Buckets || []).length}), Firehose ListDeliveryStreams ok (${f.DeliveryStreamNames.length})`;
    } finally {
      s3.destroy();
      firehose.destroy();
    }
  },
  async opensearch() {
    // Cluster health yellow or green: the node has elected itself and can take writes.
    const res = await fetch(`${env.OPENSEARCH_URL}/_cluster/health?wait_for_status=yellow&timeout=1s`, {
      signal: AbortSignal.timeout(TIMEOUT_MS),
    });
    const body = await res.json();
    if (res.status !== 200 || !['yellow', 'green'].includes(body.status)) throw new Error(`cluster health ${res.status} ${body.status}`);
    return `cluster ${body.cluster_name} ${body.status}, ${body.number_of_nodes} node(s)`;
  },
};

async function main() {
  const names = process.argv.slice(2);
  if (!names.length || names.some((n) => !probes[n])) {
    console.error(`usage: probe.js ${Object.keys(probes).join('|')} [...]`);
    process.exit(2);
  }
  const timer = setTimeout(() => {
    console.error(`probe timed out after ${2 * TIMEOUT_MS} ms`);
    process.exit(1);
  }, 2 * TIMEOUT_MS);
  // Several probes run concurrently; one line each, exit 0 only when all pass.
  const results = await Promise.all(
    names.map((name) =>
      probes[name]().then(
        (msg) => ({ ok: true, line: `${name}: ok: ${msg}` }),
        (err) => ({ ok: false, line: `${name}: failed: ${err && err.message ? err.message : err}` }),
      ),
    ),
  );
  clearTimeout(timer);
  for (const r of results) (r.ok ? console.log : console.error)(r.line);
  process.exit(results.every((r) => r.ok) ? 0 : 1);
}

main();
