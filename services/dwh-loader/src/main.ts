/**
 * `tideway dwh-loader`: a consumer group that applies change topics to a PostgreSQL (or
 * Redshift-like) warehouse, exactly once in effect. Wiring only; the logic lives in
 * batch-loader.ts (per batch), warehouse.ts (SQL I/O), apply-plan.ts and decode.ts (pure).
 */
import { Pool } from 'pg';
import { ConfigError, TidewayError, errorMessage, ignoreFailure, retryWithBackoff, runService, type ServiceDefinition } from '@tideway/runtime';
import { BatchLoader } from './batch-loader';
import { settings, type DwhSettingsSchema } from './config';
import { DwhLoaderMetrics } from './metrics';
import { ChangeTopicSubscription } from './subscription';
import { parseTopicSelector } from './topics';
import { Warehouse, isMisconfiguration } from './warehouse';
import { WarehouseWatch } from './warehouse-watch';

/** How often an idle loader checks that the warehouse still answers (readiness). */
const WAREHOUSE_PING_MS = 2000;

export const definition: ServiceDefinition<DwhSettingsSchema> = {
  name: 'dwh-loader',
  summary: 'apply change topics to a warehouse (PostgreSQL SQL), exactly once in effect',
  settings,
  async start(ctx) {
    const s = ctx.settings;
    let selector;
    try {
      selector = parseTopicSelector(s.topics);
    } catch (err) {
      throw new ConfigError('DWH_TOPICS', errorMessage(err));
    }
    if (s.mode === 'history' && s.deleteMode === 'soft') ctx.logger.info('DWH_DELETE_MODE has no effect in history mode');

    const metrics = new DwhLoaderMetrics(ctx.registry);
    const pool = new Pool({
      connectionString: s.databaseUrl,
      max: s.concurrency + 1,
      connectionTimeoutMillis: 10_000,
      application_name: `tideway-dwh-loader:${s.groupId}`,
    });
    // A connection cut (failover, restart, idle timeout) must not crash the process: the failing
    // query reports it to the batch, which retries on a new connection.
    const onConnectionError = (err: Error) => ctx.logger.warn({ err: errorMessage(err) }, 'warehouse connection lost');
    pool.on('error', onConnectionError);
    pool.on('connect', (client) => client.on('error', onConnectionError));
    const warehouse = new Warehouse(pool, { schema: s.schema, mode: s.mode, deleteMode: s.deleteMode, groupId: s.groupId }, ctx.logger);
    const setWarehouseReady = ctx.readiness.flag('warehouse');
    // The warehouse may come up after us: retry with backoff, but a wrong database or login is final.
    await retryWithBackoff(() => warehouse.init(), {
      signal: ctx.signal,
      policy: { initialMs: 200, maxMs: s.retryMaxMs, multiplier: 2 },
      shouldRetry: (err) => !isMisconfiguration(err),
      onRetry: (err) => ctx.health.down('postgres', 'warehouse init', err),
    }).catch((err: unknown) => {
      ctx.health.forget('postgres', 'warehouse init');
      if (isMisconfiguration(err)) {
        const message = `DWH_DATABASE_URL: ${errorMessage(err)} (fix the URL, credentials or database, then restart)`;
        throw new TidewayError('DEPENDENCY_MISCONFIGURED', message, { cause: err });
      }
      throw err;
    });
    ctx.health.ok('postgres', 'warehouse init');
    setWarehouseReady(true);
    new WarehouseWatch({ ping: () => warehouse.ping(), setReady: setWarehouseReady, logger: ctx.logger }).start(WAREHOUSE_PING_MS, ctx.signal);

    const admin = ctx.kafka.admin();
    await ctx.health.retry('kafka', 'admin connect', () => admin.connect(), { signal: ctx.signal });
    const knownDlqTopics = new Set<string>();
    const ensureDlqTopic = async (topic: string) => {
      if (knownDlqTopics.has(topic)) return;
      await admin.ensureTopics([{ topic }]);
      knownDlqTopics.add(topic);
    };
    const dlqProducer = ctx.kafka.producer({ idempotent: true });
    await ctx.health.retry('kafka', 'producer connect', () => dlqProducer.connect(), { signal: ctx.signal });

    const loader = new BatchLoader(
      {
        groupId: s.groupId,
        batchMaxRows: s.batchMaxRows,
        dlqSuffix: s.dlqSuffix,
        retryMaxMs: s.retryMaxMs,
        service: 'dwh-loader',
        mode: s.mode,
        tableNaming: s.tableNaming,
        softDelete: s.deleteMode === 'soft',
      },
      { warehouse, dlqProducer, ensureDlqTopic, metrics, logger: ctx.logger, signal: ctx.signal, setWarehouseReady },
    );
    const subscription = new ChangeTopicSubscription(
      ctx.kafka,
      admin,
      loader,
      {
        selector,
        dlqSuffix: s.dlqSuffix,
        refreshMs: s.topicsRefreshMs,
        consumer: {
          groupId: s.groupId,
          fromBeginning: true,
          maxBytesPerPartition: s.batchMaxBytes,
          maxBytes: s.batchMaxBytes * s.concurrency,
          maxWaitTimeMs: s.batchMaxWaitMs,
          partitionsConsumedConcurrently: s.concurrency,
          sessionTimeoutMs: s.sessionTimeoutMs,
          heartbeatIntervalMs: Math.max(1000, Math.floor(s.sessionTimeoutMs / 10)),
        },
      },
      ctx.logger,
    );
    ctx.readiness.set('kafka', () => subscription.isConnected());
    try {
      await ctx.health.retry('kafka', 'subscribe', () => subscription.start(), { signal: ctx.signal });
    } catch (err) {
      // A failed start is retried from scratch by the runtime: leave nothing connected behind.
      await subscription.stop().catch(ignoreFailure(ctx.logger, 'stopping the subscription after a failed start'));
      await dlqProducer.disconnect().catch(ignoreFailure(ctx.logger, 'dead-letter producer disconnect'));
      await admin.disconnect().catch(ignoreFailure(ctx.logger, 'admin disconnect'));
      await pool.end().catch(ignoreFailure(ctx.logger, 'closing the warehouse pool'));
      throw err;
    }
    ctx.logger.info({ groupId: s.groupId, schema: s.schema, mode: s.mode, deleteMode: s.deleteMode }, 'dwh-loader running');

    return {
      async stop() {
        await subscription.stop().catch((err) => ctx.logger.warn({ err: errorMessage(err) }, 'consumer disconnect failed'));
        await dlqProducer.disconnect().catch(ignoreFailure(ctx.logger, 'dead-letter producer disconnect'));
        await admin.disconnect().catch(ignoreFailure(ctx.logger, 'admin disconnect'));
        await pool.end().catch(ignoreFailure(ctx.logger, 'closing the warehouse pool'));
      },
    };
  },
};

export function main(argv: string[]): Promise<never> {
  return runService(definition, argv);
}
