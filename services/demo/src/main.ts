/**
 * `tideway demo`: writes realistic policy, claim and transaction changes into PostgreSQL at
 * DEMO_RATE changes/s, DEMO_FRAUD_RATIO of the transactions tripping a fraud rule. Stops at
 * DEMO_MAX_CHANGES / DEMO_DURATION (exit 0) or on SIGTERM. `npm run demo` runs the whole
 * pipeline around it (pipeline/run-pipeline.ts).
 */
import { Pool } from 'pg';
import { ConfigError, errorMessage, isTidewayError, runService, type ServiceDefinition } from '@tideway/runtime';
import { checkDemoSettings, settings, type DemoSettingsSchema } from './config';
import { ChangeGenerator } from './generator';
import { DemoMetrics } from './metrics';
import { runPacedGenerator } from './paced-generator';
import { PostgresChangeWriter } from './postgres-writer';

export const definition: ServiceDefinition<DemoSettingsSchema> = {
  name: 'demo',
  summary: 'generate realistic policy, claim and transaction changes into PostgreSQL (some trip the fraud rules)',
  settings,
  async start(ctx) {
    const s = ctx.settings;
    try {
      checkDemoSettings(s);
    } catch (err) {
      throw new ConfigError('DEMO_BATCH_MAX_CHANGES', errorMessage(err));
    }
    const metrics = new DemoMetrics(ctx.registry);
    const pool = new Pool({ connectionString: s.databaseUrl, max: 2, connectionTimeoutMillis: 10_000, application_name: 'tideway-demo' });
    pool.on('error', (err) => ctx.logger.warn({ err: errorMessage(err) }, 'database connection lost'));
    const writer = new PostgresChangeWriter(pool, s.schema);
    await writer.ensureSchema();
    ctx.readiness.flag('postgres', true);
    const seed = s.seed || Math.floor(Math.random() * 2 ** 31);
    ctx.logger.info({ rate: s.rate, fraudRatio: s.fraudRatio, seed, schema: s.schema }, 'generating changes');

    const abort = new AbortController();
    ctx.signal.addEventListener('abort', () => abort.abort(), { once: true });
    const done = runPacedGenerator(
      // Without DEMO_ID_PREFIX the ids carry the seed, so a restarted generator (new random seed) never reuses an id.
      new ChangeGenerator({ seed, fraudRatio: s.fraudRatio, idPrefix: s.idPrefix || seed.toString(36) }),
      writer,
      { rate: s.rate, batchMaxChanges: s.batchMaxChanges, maxChanges: s.maxChanges, durationMs: s.durationMs, signal: abort.signal },
      (batch) => {
        for (const c of batch) {
          metrics.changes.inc({ table: c.table, op: c.op });
          if (c.table === 'transactions' && c.fraud) metrics.fraudTransactions.inc({ rule: c.fraud });
        }
      },
      (err, attempt) => {
        metrics.writeRetries.inc();
        ctx.logger.warn({ err: errorMessage(err), attempt }, 'write failed; retrying with backoff');
      },
    ).then(
      (written) => {
        ctx.logger.info({ written }, 'done');
        // Reached DEMO_MAX_CHANGES or DEMO_DURATION: stop like on SIGTERM (exit 0).
        if (!ctx.signal.aborted) process.kill(process.pid, 'SIGTERM');
      },
      (err) => {
        if (!abort.signal.aborted) ctx.fail(isTidewayError(err) ? err : new Error(errorMessage(err)));
      },
    );

    return {
      async stop() {
        abort.abort();
        await done;
        await pool.end();
      },
    };
  },
};

export function main(argv: string[]): Promise<never> {
  return runService(definition, argv);
}
