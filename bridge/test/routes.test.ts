import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigError } from '@tideway/runtime';
import { parseRoutesText, type Route } from '../src/routes';

const opts = { resolveTransform: (p: string) => `/abs/${p}`, s3CustomEndpoint: true };
const parse = (yaml: string) => parseRoutesText(yaml, 'routes.yaml', opts);

function problem(yaml: string): string {
  try {
    parse(yaml);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as Error).message;
  }
  throw new Error('expected a ConfigError');
}

describe('routes file', () => {
  it('accepts the documented route format (examples/routes.yaml)', () => {
    const routes = parseRoutesText(readFileSync(join(__dirname, '..', '..', 'examples', 'routes.yaml'), 'utf8'), 'examples/routes.yaml', {
      ...opts,
      openSearchUrl: 'http://127.0.0.1:9200',
    });
    const byName = new Map<string, Route>(routes.map((r) => [r.name, r]));
    expect(byName.get('transactions-to-kinesis')!.destination).toMatchObject({
      type: 'kinesis',
      stream: 'transactions-realtime',
      create: { shards: 4 },
      partitionKey: { kind: 'key' },
    });
    expect(byName.get('transactions-to-firehose')!.destination).toMatchObject({ type: 'firehose', deliveryStream: 'txn-to-s3', newlineDelimited: true });
    const s3 = byName.get('iot-to-s3')!;
    expect(s3.transform).toBe('/abs/./examples/transforms/iot-firehose.js');
    expect(s3.destination).toMatchObject({
      type: 's3',
      bucket: 'datalake',
      compression: 'gzip',
      bufferingHints: { sizeBytes: 64 * 1024 * 1024, intervalMs: 60_000 },
      forcePathStyle: true,
    });
    expect(byName.get('iot-by-device')!.topics).toEqual({ regex: /^iot\..*/ });
    expect(byName.get('policies-view')!.destination).toMatchObject({ type: 'opensearch', endpoint: 'http://127.0.0.1:9200', index: 'policies' });
  });

  it('takes an opensearch route’s endpoint from OPENSEARCH_URL when it names none, and needs one of them', () => {
    const route = 'routes:\n  - name: v\n    topics: [t]\n    opensearch: { index: v }\n';
    expect(parseRoutesText(route, 'routes.yaml', { ...opts, openSearchUrl: 'http://os:9200' })[0].destination).toMatchObject({ endpoint: 'http://os:9200' });
    expect(() => parse(route)).toThrow(/opensearch\.endpoint.*OPENSEARCH_URL/);
  });

  it('parses partition key options and on-demand creation', () => {
    const [r] = parse(
      'routes:\n  - name: a\n    topics: [t]\n    kinesis: { stream: s, create: { onDemand: true }, partitionKey: "field:device.id", aggregation: true }\n',
    );
    expect(r.destination).toMatchObject({ create: { onDemand: true }, partitionKey: { kind: 'field', path: 'device.id' }, aggregation: { enabled: true } });
  });

  it.each([
    ['routes:\n  - name: a\n    topics: [t]\n', 'route "a": needs exactly one destination'],
    [
      'routes:\n  - name: a\n    topics: [t]\n    kinesis: { stream: s }\n    s3: { bucket: bbb }\n',
      'route "a": needs exactly one destination (kinesis, firehose, s3 or opensearch), found kinesis and s3',
    ],
    [
      'routes:\n  - name: a\n    topics: [t]\n    kinesis: { stream: s, partitionKey: shard }\n',
      'route "a" kinesis.partitionKey: must be key, hash, random or field:<path>, got "shard"',
    ],
    [
      'routes:\n  - name: a\n    topics: [t]\n    kinesis: { stream: s, create: { shards: 0 } }\n',
      'route "a" kinesis.create.shards: must be between 1 and 10000, got 0',
    ],
    [
      'routes:\n  - name: a\n    topics: [t]\n    kinesis: { stream: s, create: { shards: 2, onDemand: true } }\n',
      'route "a" kinesis.create: must be exactly one of',
    ],
    ['routes:\n  - name: a\n    topics: [t]\n    firehose: { deliveryStreem: x }\n', 'route "a" firehose.deliveryStreem: unknown field'],
    ['routes:\n  - name: a\n    topics: { regex: "([" }\n    firehose: { deliveryStream: x }\n', 'route "a" topics.regex: is not a valid regular expression'],
    ['routes:\n  - name: a\n    topics: []\n    firehose: { deliveryStream: x }\n', 'route "a" topics: must name at least one topic'],
    ['routes:\n  - name: a\n    topics: [t]\n    s3: { bucket: Bad_Bucket }\n', 'route "a" s3.bucket: must be a valid S3 bucket name'],
    ['routes:\n  - name: a\n    topics: [t]\n    s3: { bucket: bbb, prefix: "x/!{timestamp}/" }\n', 'route "a" s3.prefix: unsupported expression !{timestamp}'],
    [
      'routes:\n  - name: a\n    topics: [t]\n    s3: { bucket: bbb, bufferingHints: { sizeInMBs: 500 } }\n',
      'route "a" s3.bufferingHints.sizeInMBs: must be between 0.001 and 128, got 500',
    ],
    ['routes:\n  - topics: [t]\n    s3: { bucket: bbb }\n', 'routes[0] name: is required'],
    [
      'routes:\n  - name: a\n    topics: [t]\n    s3: { bucket: bbb }\n  - name: a\n    topics: [u]\n    s3: { bucket: bbb }\n',
      'route "a" name: is used by another route',
    ],
    ['routes: []\n', 'routes.yaml: routes: must be a non-empty list'],
    ['routez: []\n', 'routes.yaml: routez: unknown top-level field'],
  ])('rejects %j with one line naming the route and field', (yaml, expected) => {
    const msg = problem(yaml);
    expect(msg).toContain(expected);
    expect(msg).not.toContain('\n');
  });
});
