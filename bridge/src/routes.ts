/**
 * The routes file (`BRIDGE_ROUTES`): which topics go to which destination. Parsing is pure
 * and strict: any problem becomes one ConfigError naming the route and field, so the
 * service exits 2 before it touches Kafka or AWS.
 */
import { ConfigError, isValidPath, parseYamlObject } from '@tideway/runtime';
import { LIMITS } from './limits';
import type { AuthSpec, SecretSource } from './opensearch/auth';
import type { DocumentIdSpec } from './opensearch/bulk';
import { ROTATION_PERIODS, type RotationPeriod } from './opensearch/index-name';

export type TopicSelector = { names: string[] } | { regex: RegExp };

/** How a record's Kinesis partition key is chosen. */
export type PartitionKeySpec = { kind: 'key' } | { kind: 'hash' } | { kind: 'random' } | { kind: 'field'; path: string };

export interface KinesisDestination {
  type: 'kinesis';
  stream: string;
  /** Create the stream when missing; undefined = require an existing stream. */
  create?: { shards: number } | { onDemand: true };
  partitionKey: PartitionKeySpec;
  /** KPL-format aggregation of records that share a partition key. */
  aggregation: { enabled: boolean; maxBytes: number };
}

export interface FirehoseDestination {
  type: 'firehose';
  deliveryStream: string;
  /** Append a newline to each record that lacks one (newline-delimited JSON). */
  newlineDelimited: boolean;
  /** Several small records per Firehose record, newline-separated, up to maxBytes. */
  packing: { enabled: boolean; maxBytes: number };
}

export interface S3Destination {
  type: 's3';
  bucket: string;
  prefix: string;
  errorOutputPrefix: string;
  compression: 'gzip' | 'none';
  bufferingHints: { sizeBytes: number; intervalMs: number };
  /** Path-style addressing (needed by most S3-compatible stores on a bare host:port). */
  forcePathStyle: boolean;
  /** `If-None-Match: *` on writes; `auto` turns it off when the store rejects it. */
  conditionalWrites: 'auto' | 'on' | 'off';
  /** Part size of the streaming multipart upload. */
  partSizeBytes: number;
  /** Create the bucket when missing. */
  create: boolean;
}

export interface OpenSearchDestination {
  type: 'opensearch';
  /** Base URL of the cluster (http or https). */
  endpoint: string;
  /** Index name, before the rotation suffix. */
  index: string;
  indexRotationPeriod: RotationPeriod;
  documentId: DocumentIdSpec;
  bufferingHints: { sizeBytes: number; intervalMs: number };
  auth: AuthSpec;
  /** PEM file of CA certificates for https (default: the system store). */
  caFile?: string;
}

export type Destination = KinesisDestination | FirehoseDestination | S3Destination | OpenSearchDestination;

export interface Route {
  name: string;
  topics: TopicSelector;
  /** Absolute path of a Firehose-style transformation module, if any. */
  transform?: string;
  /** Dead-letter topic; default `<origin topic><BRIDGE_DLQ_SUFFIX>`. */
  deadLetterTopic?: string;
  destination: Destination;
}

const ROUTE_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/;
const KINESIS_STREAM = /^[a-zA-Z0-9_.-]{1,128}$/;
const FIREHOSE_STREAM = /^[a-zA-Z0-9_.-]{1,64}$/;
const S3_BUCKET = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;
const KAFKA_TOPIC = /^[a-zA-Z0-9._-]{1,249}$/;
/** Lowercase, no characters OpenSearch forbids, room for a rotation suffix (255 bytes in all). */
const OPENSEARCH_INDEX = /^[a-z0-9][a-z0-9._-]{0,199}$/;
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

type Obj = Record<string, unknown>;

class RouteProblem {
  constructor(
    readonly field: string,
    readonly problem: string,
  ) {}
}

function fail(field: string, problem: string): never {
  throw new RouteProblem(field, problem);
}

function isObj(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function onlyKeys(o: Obj, field: string, allowed: string[]): void {
  for (const k of Object.keys(o)) if (!allowed.includes(k)) fail(field ? `${field}.${k}` : k, `unknown field (expected one of: ${allowed.join(', ')})`);
}

function str(o: Obj, key: string, field: string, pattern?: RegExp, hint?: string): string {
  const v = o[key];
  if (typeof v !== 'string' || v === '') fail(field, 'is required and must be a non-empty string');
  if (pattern && !pattern.test(v)) fail(field, `must be ${hint ?? `like ${pattern}`}, got "${v}"`);
  return v;
}

function optStr(o: Obj, key: string, field: string): string | undefined {
  if (o[key] === undefined || o[key] === null) return undefined;
  return str(o, key, field);
}

function optBool(o: Obj, key: string, field: string, dflt: boolean): boolean {
  const v = o[key];
  if (v === undefined || v === null) return dflt;
  if (typeof v !== 'boolean') fail(field, `must be true or false, got ${JSON.stringify(v)}`);
  return v;
}

function num(v: unknown, field: string, min: number, max: number, integer = true): number {
  if (typeof v !== 'number' || !Number.isFinite(v) || (integer && !Number.isInteger(v)))
    fail(field, `must be ${integer ? 'an integer' : 'a number'}, got ${JSON.stringify(v)}`);
  if (v < min || v > max) fail(field, `must be between ${min} and ${max}, got ${v}`);
  return v;
}

function parseTopics(v: unknown): TopicSelector {
  if (Array.isArray(v)) {
    if (v.length === 0) fail('topics', 'must name at least one topic');
    const names = v.map((t, i) => {
      if (typeof t !== 'string' || !KAFKA_TOPIC.test(t)) fail(`topics[${i}]`, `must be a Kafka topic name, got ${JSON.stringify(t)}`);
      return t;
    });
    return { names };
  }
  if (typeof v === 'string') {
    if (!KAFKA_TOPIC.test(v)) fail('topics', `must be a Kafka topic name, got "${v}"`);
    return { names: [v] };
  }
  if (isObj(v)) {
    onlyKeys(v, 'topics', ['regex']);
    const src = str(v, 'regex', 'topics.regex');
    try {
      return { regex: new RegExp(src) };
    } catch (err) {
      fail('topics.regex', `is not a valid regular expression: ${(err as Error).message}`);
    }
  }
  fail('topics', 'is required: a list of topic names, or { regex: "..." }');
}

export function parsePartitionKey(v: unknown, field: string): PartitionKeySpec {
  if (v === undefined || v === null) return { kind: 'key' };
  if (typeof v !== 'string') fail(field, 'must be key, hash, random or field:<path>');
  if (v === 'key' || v === 'hash' || v === 'random') return { kind: v };
  if (v.startsWith('field:')) {
    const path = v.slice('field:'.length);
    if (!isValidPath(path)) fail(field, `field:<path> needs a dotted path such as field:device.id, got "${v}"`);
    return { kind: 'field', path };
  }
  fail(field, `must be key, hash, random or field:<path>, got "${v}"`);
}

function parseKinesis(v: Obj): KinesisDestination {
  onlyKeys(v, 'kinesis', ['stream', 'create', 'partitionKey', 'aggregation']);
  const stream = str(v, 'stream', 'kinesis.stream', KINESIS_STREAM, '1-128 characters of a-z A-Z 0-9 _ . -');
  let create: KinesisDestination['create'];
  if (v.create !== undefined && v.create !== null) {
    if (!isObj(v.create)) fail('kinesis.create', 'must be { shards: N } or { onDemand: true }');
    onlyKeys(v.create, 'kinesis.create', ['shards', 'onDemand']);
    if (v.create.onDemand === true && v.create.shards === undefined) create = { onDemand: true };
    else if (v.create.shards !== undefined && v.create.onDemand === undefined) create = { shards: num(v.create.shards, 'kinesis.create.shards', 1, 10_000) };
    else fail('kinesis.create', 'must be exactly one of { shards: N } or { onDemand: true }');
  }
  const partitionKey = parsePartitionKey(v.partitionKey, 'kinesis.partitionKey');
  let aggregation = { enabled: false, maxBytes: LIMITS.kinesis.maxRecordBytes };
  if (v.aggregation !== undefined && v.aggregation !== null) {
    if (typeof v.aggregation === 'boolean') aggregation = { enabled: v.aggregation, maxBytes: aggregation.maxBytes };
    else if (isObj(v.aggregation)) {
      onlyKeys(v.aggregation, 'kinesis.aggregation', ['enabled', 'maxBytes']);
      aggregation = {
        enabled: optBool(v.aggregation, 'enabled', 'kinesis.aggregation.enabled', true),
        maxBytes:
          v.aggregation.maxBytes === undefined
            ? aggregation.maxBytes
            : num(v.aggregation.maxBytes, 'kinesis.aggregation.maxBytes', 1024, LIMITS.kinesis.maxRecordBytes),
      };
    } else fail('kinesis.aggregation', 'must be true, false or { enabled, maxBytes }');
  }
  return { type: 'kinesis', stream, create, partitionKey, aggregation };
}

function parseFirehose(v: Obj): FirehoseDestination {
  onlyKeys(v, 'firehose', ['deliveryStream', 'newlineDelimited', 'packing']);
  const deliveryStream = str(v, 'deliveryStream', 'firehose.deliveryStream', FIREHOSE_STREAM, '1-64 characters of a-z A-Z 0-9 _ . -');
  let packing = { enabled: false, maxBytes: 5 * 1024 };
  if (v.packing !== undefined && v.packing !== null) {
    if (typeof v.packing === 'boolean') packing = { enabled: v.packing, maxBytes: packing.maxBytes };
    else if (isObj(v.packing)) {
      onlyKeys(v.packing, 'firehose.packing', ['enabled', 'maxBytes']);
      packing = {
        enabled: optBool(v.packing, 'enabled', 'firehose.packing.enabled', true),
        maxBytes:
          v.packing.maxBytes === undefined ? packing.maxBytes : num(v.packing.maxBytes, 'firehose.packing.maxBytes', 1024, LIMITS.firehose.maxRecordBytes),
      };
    } else fail('firehose.packing', 'must be true, false or { enabled, maxBytes }');
  }
  const newlineDelimited = optBool(v, 'newlineDelimited', 'firehose.newlineDelimited', true);
  if (packing.enabled && !newlineDelimited) fail('firehose.packing', 'needs newlineDelimited: true (packed records are separated by newlines)');
  return { type: 'firehose', deliveryStream, newlineDelimited, packing };
}

function parseS3(v: Obj, hasCustomEndpoint: boolean): S3Destination {
  onlyKeys(v, 's3', ['bucket', 'prefix', 'errorOutputPrefix', 'compression', 'bufferingHints', 'forcePathStyle', 'conditionalWrites', 'partSizeMB', 'create']);
  const bucket = str(v, 'bucket', 's3.bucket', S3_BUCKET, 'a valid S3 bucket name (3-63 characters of a-z 0-9 . -)');
  const prefix = optStr(v, 'prefix', 's3.prefix') ?? '';
  const errorOutputPrefix = optStr(v, 'errorOutputPrefix', 's3.errorOutputPrefix') ?? 'errors/!{firehose:error-output-type}/';
  // Lazy import would hide errors until run time; the prefix grammar is checked here.
  checkPrefix(prefix, 's3.prefix', false);
  checkPrefix(errorOutputPrefix, 's3.errorOutputPrefix', true);
  const compression = v.compression === undefined ? 'gzip' : v.compression;
  if (compression !== 'gzip' && compression !== 'none') fail('s3.compression', `must be gzip or none, got ${JSON.stringify(compression)}`);
  let sizeBytes = 5 * 1024 * 1024;
  let intervalMs = 300_000;
  if (v.bufferingHints !== undefined && v.bufferingHints !== null) {
    if (!isObj(v.bufferingHints)) fail('s3.bufferingHints', 'must be { sizeInMBs, intervalInSeconds }');
    onlyKeys(v.bufferingHints, 's3.bufferingHints', ['sizeInMBs', 'intervalInSeconds']);
    if (v.bufferingHints.sizeInMBs !== undefined)
      sizeBytes = Math.round(num(v.bufferingHints.sizeInMBs, 's3.bufferingHints.sizeInMBs', 0.001, 128, false) * 1024 * 1024);
    if (v.bufferingHints.intervalInSeconds !== undefined)
      intervalMs = num(v.bufferingHints.intervalInSeconds, 's3.bufferingHints.intervalInSeconds', 0, 900) * 1000;
  }
  const cw = v.conditionalWrites === undefined ? 'auto' : v.conditionalWrites === true ? 'on' : v.conditionalWrites === false ? 'off' : v.conditionalWrites;
  if (cw !== 'auto' && cw !== 'on' && cw !== 'off') fail('s3.conditionalWrites', `must be auto, true or false, got ${JSON.stringify(v.conditionalWrites)}`);
  const partSizeMB = v.partSizeMB === undefined ? 8 : num(v.partSizeMB, 's3.partSizeMB', 5, 512);
  return {
    type: 's3',
    bucket,
    prefix,
    errorOutputPrefix,
    compression,
    bufferingHints: { sizeBytes, intervalMs },
    forcePathStyle: optBool(v, 'forcePathStyle', 's3.forcePathStyle', hasCustomEndpoint),
    conditionalWrites: cw,
    partSizeBytes: partSizeMB * 1024 * 1024,
    create: optBool(v, 'create', 's3.create', false),
  };
}

function parseSecretSource(o: Obj, field: string, name: string): SecretSource {
  const fromEnv = o[`${name}Env`];
  const fromFile = o[`${name}File`];
  if ((fromEnv === undefined) === (fromFile === undefined))
    fail(`${field}.${name}Env`, `exactly one of ${name}Env (an environment variable's name) or ${name}File (a file's path) is required`);
  if (fromEnv !== undefined) return { env: str(o, `${name}Env`, `${field}.${name}Env`, ENV_NAME, 'the name of an environment variable') };
  return { file: str(o, `${name}File`, `${field}.${name}File`) };
}

function parseOpenSearchAuth(v: unknown): AuthSpec {
  if (v === undefined || v === null) return { kind: 'none' };
  if (!isObj(v)) fail('opensearch.auth', 'must be { username, passwordEnv | passwordFile } or { apiKeyEnv | apiKeyFile }');
  onlyKeys(v, 'opensearch.auth', ['username', 'passwordEnv', 'passwordFile', 'apiKeyEnv', 'apiKeyFile']);
  if (v.username !== undefined) {
    if (v.apiKeyEnv !== undefined || v.apiKeyFile !== undefined) fail('opensearch.auth', 'is either basic auth (username, password…) or an API key, not both');
    return { kind: 'basic', username: str(v, 'username', 'opensearch.auth.username'), password: parseSecretSource(v, 'opensearch.auth', 'password') };
  }
  if (v.passwordEnv !== undefined || v.passwordFile !== undefined) fail('opensearch.auth.username', 'is required with a password');
  return { kind: 'apiKey', apiKey: parseSecretSource(v, 'opensearch.auth', 'apiKey') };
}

function parseOpenSearch(v: Obj, defaultEndpoint: string | undefined): OpenSearchDestination {
  onlyKeys(v, 'opensearch', ['endpoint', 'index', 'indexRotationPeriod', 'documentId', 'bufferingHints', 'auth', 'tls']);
  const endpoint = optStr(v, 'endpoint', 'opensearch.endpoint') ?? defaultEndpoint;
  if (endpoint === undefined) fail('opensearch.endpoint', 'required (or set OPENSEARCH_URL)');
  let url: URL;
  try {
    url = new URL(endpoint);
  } catch {
    fail('opensearch.endpoint', `must be an http:// or https:// URL, got "${endpoint}"`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') fail('opensearch.endpoint', `must be an http:// or https:// URL, got "${endpoint}"`);
  if (url.username || url.password) fail('opensearch.endpoint', 'must not hold credentials (use auth with passwordEnv or passwordFile)');
  const index = str(
    v,
    'index',
    'opensearch.index',
    OPENSEARCH_INDEX,
    'a lowercase index name (a-z 0-9 . _ -, not starting with . _ -, at most 200 characters)',
  );
  const period = v.indexRotationPeriod === undefined ? 'OneDay' : v.indexRotationPeriod;
  if (!ROTATION_PERIODS.includes(period as RotationPeriod))
    fail('opensearch.indexRotationPeriod', `must be one of ${ROTATION_PERIODS.join(', ')}, got ${JSON.stringify(period)}`);
  let documentId: DocumentIdSpec = { kind: 'key' };
  if (v.documentId !== undefined && v.documentId !== null) {
    const spec = v.documentId;
    if (spec === 'key') documentId = { kind: 'key' };
    else if (spec === 'none') documentId = { kind: 'none' };
    else if (typeof spec === 'string' && spec.startsWith('field:') && isValidPath(spec.slice(6))) documentId = { kind: 'field', path: spec.slice(6) };
    else fail('opensearch.documentId', `must be key, none or field:<dotted.path>, got ${JSON.stringify(spec)}`);
  }
  // Firehose's defaults for OpenSearch: 5 MB or 300 s.
  let sizeBytes = 5 * 1024 * 1024;
  let intervalMs = 300_000;
  if (v.bufferingHints !== undefined && v.bufferingHints !== null) {
    if (!isObj(v.bufferingHints)) fail('opensearch.bufferingHints', 'must be { sizeInMBs, intervalInSeconds }');
    onlyKeys(v.bufferingHints, 'opensearch.bufferingHints', ['sizeInMBs', 'intervalInSeconds']);
    if (v.bufferingHints.sizeInMBs !== undefined)
      sizeBytes = Math.round(num(v.bufferingHints.sizeInMBs, 'opensearch.bufferingHints.sizeInMBs', 0.001, 100, false) * 1024 * 1024);
    if (v.bufferingHints.intervalInSeconds !== undefined)
      intervalMs = num(v.bufferingHints.intervalInSeconds, 'opensearch.bufferingHints.intervalInSeconds', 0, 900) * 1000;
  }
  let caFile: string | undefined;
  if (v.tls !== undefined && v.tls !== null) {
    if (!isObj(v.tls)) fail('opensearch.tls', 'must be { caFile }');
    onlyKeys(v.tls, 'opensearch.tls', ['caFile']);
    caFile = optStr(v.tls, 'caFile', 'opensearch.tls.caFile');
    if (caFile !== undefined && url.protocol !== 'https:') fail('opensearch.tls.caFile', 'needs an https:// endpoint');
  }
  return {
    type: 'opensearch',
    endpoint,
    index,
    indexRotationPeriod: period as RotationPeriod,
    documentId,
    bufferingHints: { sizeBytes, intervalMs },
    auth: parseOpenSearchAuth(v.auth),
    caFile,
  };
}

/** The Firehose expressions a prefix may use (checked again when expanded). */
const PREFIX_EXPRESSION = /!\{([^}]*)\}/g;
function checkPrefix(prefix: string, field: string, isErrorPrefix: boolean): void {
  for (const m of prefix.matchAll(PREFIX_EXPRESSION)) {
    const expr = m[1];
    const [ns, arg] = splitOnce(expr, ':');
    if (ns === 'timestamp' && arg && /^[yMdHms'/=_.\-a-zA-Z]+$/.test(arg)) continue;
    if ((ns === 'field' || ns === 'partitionKeyFromQuery') && arg && isValidPath(arg)) continue;
    if (ns === 'firehose' && arg === 'random-string') continue;
    if (ns === 'firehose' && arg === 'error-output-type' && isErrorPrefix) continue;
    fail(
      field,
      `unsupported expression !{${expr}} (use !{timestamp:<format>}, !{field:<path>}, !{partitionKeyFromQuery:<path>}, !{firehose:random-string}${isErrorPrefix ? ', !{firehose:error-output-type}' : ''})`,
    );
  }
  if (prefix.replace(PREFIX_EXPRESSION, '').includes('!{')) fail(field, 'has an unterminated !{ expression');
}

function splitOnce(s: string, sep: string): [string, string | undefined] {
  const i = s.indexOf(sep);
  return i < 0 ? [s, undefined] : [s.slice(0, i), s.slice(i + 1)];
}

export interface ParseRoutesOptions {
  /** Resolves a transform path to an absolute one (relative paths: from the working directory). */
  resolveTransform: (path: string) => string;
  /** True when AWS_ENDPOINT_URL_S3 / AWS_ENDPOINT_URL is set (then path-style is the default). */
  s3CustomEndpoint: boolean;
  /** OPENSEARCH_URL: the endpoint of an opensearch route that names none. */
  openSearchUrl?: string;
}

/** Parses a routes document; throws ConfigError `routes[i] (name).field: problem`. */
export function parseRoutes(doc: Record<string, unknown>, file: string, options: ParseRoutesOptions): Route[] {
  const unknown = Object.keys(doc).filter((k) => k !== 'routes');
  if (unknown.length > 0) throw new ConfigError(`${file}: ${unknown[0]}`, 'unknown top-level field (expected: routes)');
  if (!Array.isArray(doc.routes) || doc.routes.length === 0) throw new ConfigError(`${file}: routes`, 'must be a non-empty list of routes');
  const routes: Route[] = [];
  const names = new Set<string>();
  doc.routes.forEach((raw, i) => {
    const label = isObj(raw) && typeof raw.name === 'string' ? `route "${raw.name}"` : `routes[${i}]`;
    try {
      if (!isObj(raw)) fail('', 'must be a mapping');
      onlyKeys(raw, '', ['name', 'topics', 'transform', 'deadLetterTopic', 'kinesis', 'firehose', 's3', 'opensearch']);
      const name = str(raw, 'name', 'name', ROUTE_NAME, '1-100 characters of A-Z a-z 0-9 . _ - (it names the consumer group)');
      if (names.has(name)) fail('name', 'is used by another route (each route is its own consumer group)');
      names.add(name);
      const topics = parseTopics(raw.topics);
      const destinations = (['kinesis', 'firehose', 's3', 'opensearch'] as const).filter((d) => raw[d] !== undefined);
      if (destinations.length !== 1)
        fail(
          '',
          `needs exactly one destination (kinesis, firehose, s3 or opensearch), found ${destinations.length === 0 ? 'none' : destinations.join(' and ')}`,
        );
      const d = destinations[0];
      const body = raw[d];
      if (!isObj(body)) fail(d, 'must be a mapping');
      const destination =
        d === 'kinesis'
          ? parseKinesis(body)
          : d === 'firehose'
            ? parseFirehose(body)
            : d === 'opensearch'
              ? parseOpenSearch(body, options.openSearchUrl)
              : parseS3(body, options.s3CustomEndpoint);
      const transformPath = optStr(raw, 'transform', 'transform');
      const deadLetterTopic = optStr(raw, 'deadLetterTopic', 'deadLetterTopic');
      if (deadLetterTopic !== undefined && !KAFKA_TOPIC.test(deadLetterTopic)) fail('deadLetterTopic', `must be a Kafka topic name, got "${deadLetterTopic}"`);
      routes.push({ name, topics, transform: transformPath ? options.resolveTransform(transformPath) : undefined, deadLetterTopic, destination });
    } catch (err) {
      if (err instanceof RouteProblem) throw new ConfigError(`${file}: ${label}${err.field ? ` ${err.field}` : ''}`, err.problem);
      throw err;
    }
  });
  return routes;
}

/** Parses routes YAML text (see `parseRoutes`). */
export function parseRoutesText(text: string, file: string, options: ParseRoutesOptions): Route[] {
  return parseRoutes(parseYamlObject(text, file), file, options);
}

export function consumerGroupFor(route: Route, prefix: string): string {
  return `${prefix}${route.name}`;
}
