/** `tideway bridge`: Kafka topics → Kinesis Data Streams, Firehose, S3 and OpenSearch, per the routes file. */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { ConfigError, ignoreFailure, runService, type ServiceDefinition } from '@tideway/runtime';
import { firehoseClient, hasCustomS3Endpoint, kinesisClient, s3Client } from './aws-clients';
import { settings, type BridgeSettingsSchema } from './config';
import { DeadLetterWriter } from './dead-letter-writer';
import { FirehoseSink } from './firehose/firehose-sink';
import { authorizationHeader } from './opensearch/auth';
import { OpenSearchHttp } from './opensearch/http-client';
import { OpenSearchSink } from './opensearch/opensearch-sink';
import { KinesisSink } from './kinesis/kinesis-sink';
import { BridgeMetrics } from './metrics';
import { RoutePipeline } from './route-pipeline';
import { consumerGroupFor, parseRoutesText, type OpenSearchDestination, type Route } from './routes';
import { S3Sink } from './s3/s3-sink';
import type { RecordOutcomes, Sink } from './sink';
import { FirehoseTransform } from './transform';

/** Reads and validates the routes file; every problem is a ConfigError (exit 2). */
export function loadRoutes(path: string, env: NodeJS.ProcessEnv = process.env): Route[] {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new ConfigError('BRIDGE_ROUTES', `cannot read ${path}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
  }
  return parseRoutesText(text, path, {
    resolveTransform: (p) => resolve(p),
    s3CustomEndpoint: hasCustomS3Endpoint(env),
    openSearchUrl: env.OPENSEARCH_URL || undefined,
  });
}

export const definition: ServiceDefinition<BridgeSettingsSchema> = {
  name: 'bridge',
  summary: 'mirror Kafka topics into Kinesis Data Streams, Firehose, S3 and OpenSearch (at-least-once, per-key order)',
  settings,
  async start(ctx) {
    const s = ctx.settings;
    const routes = loadRoutes(s.routesFile);
    const region = process.env.AWS_REGION ?? process.env.AWS_DEFAULT_REGION ?? 'us-east-1';
    const transforms = new Map(routes.filter((r) => r.transform).map((r) => [r.name, FirehoseTransform.load(r.name, r.transform!, region)]));
    // Secrets and CA files are read before anything connects: a missing one exits 2.
    const openSearchClients = new Map<string, OpenSearchHttp>();
    for (const r of routes) {
      if (r.destination.type === 'opensearch')
        openSearchClients.set(r.name, openSearchClient(r.name, r.destination, s.requestTimeoutMs, s.maxInFlightRequests * 2));
    }
    const metrics = new BridgeMetrics(ctx.registry);
    const backoff = { initialMs: s.retryInitialMs, maxMs: s.retryMaxMs, multiplier: 2 };
    const clientOptions = { requestTimeoutMs: s.requestTimeoutMs, maxSockets: s.maxInFlightRequests * 2 };

    const producer = ctx.kafka.producer({ idempotent: true });
    const deadLetters = new DeadLetterWriter(producer, ctx.logger, ctx.signal);

    const pipelines = routes.map((route) => {
      const setReady = ctx.readiness.flag(`route:${route.name}`);
      // The pipeline is the sink's RecordOutcomes; it is built right after the sink.
      const outcomes: RecordOutcomes = {
        delivered: (r) => pipeline.delivered(r),
        finished: (r) => pipeline.finished(r),
        deadLetter: (r, reason, error) => pipeline.deadLetter(r, reason, error),
        destinationHealthy: (h, p) => pipeline.destinationHealthy(h, p),
        bufferShrunk: () => pipeline.bufferShrunk(),
      };
      const common = {
        route: route.name,
        logger: ctx.logger,
        metrics,
        outcomes,
        backoff,
        maxInFlight: s.maxInFlightRequests,
        maxBufferedBytes: s.maxBufferedBytes,
      };
      const d = route.destination;
      let sink: Sink;
      if (d.type === 'kinesis') {
        sink = new KinesisSink({ ...common, destination: d, client: kinesisClient(clientOptions), shardMapRefreshMs: s.shardMapRefreshMs });
      } else if (d.type === 'firehose') sink = new FirehoseSink({ ...common, destination: d, client: firehoseClient(clientOptions) });
      else if (d.type === 'opensearch') sink = new OpenSearchSink({ ...common, destination: d, http: openSearchClients.get(route.name)! });
      else sink = new S3Sink({ ...common, destination: d, client: s3Client({ ...clientOptions, forcePathStyle: d.forcePathStyle }) });
      const pipeline: RoutePipeline = new RoutePipeline({
        route,
        groupId: consumerGroupFor(route, s.consumerGroupPrefix),
        kafka: ctx.kafka,
        sink,
        sessionTimeoutMs: s.sessionTimeoutMs,
        transform: transforms.get(route.name),
        deadLetters,
        dlqSuffix: s.dlqSuffix,
        logger: ctx.logger,
        metrics,
        commitIntervalMs: s.commitIntervalMs,
        setReady,
        signal: ctx.signal,
        fail: ctx.fail,
      });
      return pipeline;
    });
    for (const p of pipelines) p.start();
    ctx.logger.info({ routes: routes.map((r) => `${r.name}→${r.destination.type}`) }, 'bridge routes started');

    return {
      async stop() {
        // Leave a few seconds of the shutdown budget for commits and disconnects.
        const deadline = AbortSignal.timeout(Math.max(500, s.shutdownTimeoutMs - 5000));
        await Promise.all(pipelines.map((p) => p.stop(deadline)));
        await producer.disconnect().catch(ignoreFailure(ctx.logger, 'producer disconnect'));
      },
    };
  },
};

function openSearchClient(route: string, d: OpenSearchDestination, timeoutMs: number, maxSockets: number): OpenSearchHttp {
  let ca: string | undefined;
  if (d.caFile) {
    try {
      ca = readFileSync(d.caFile, 'utf8');
    } catch (err) {
      throw new ConfigError(`route "${route}" opensearch.tls.caFile`, `cannot read ${d.caFile}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
    }
  }
  return new OpenSearchHttp({ endpoint: d.endpoint, authorization: authorizationHeader(d.auth, route), ca, timeoutMs, maxSockets });
}

export function main(argv: string[]): Promise<never> {
  return runService(definition, argv);
}
