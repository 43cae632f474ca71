/**
 * The capture loop: prepare the source, create or reuse the slot, snapshot when needed, then
 * stream; on a lost connection reconnect with backoff and resume from the slot's confirmed
 * position. Fatal conditions (wal_level, a lost or dropped slot) stop the service with one
 * clear error.
 */
import type { Client } from 'pg';
import { backoffDelayMs, canRetry, errorMessage, ignoreFailure, sleep, type Admin, type Logger, type Producer, type ServiceContext } from '@tideway/runtime';
import { topicFor, type CapturedTable } from './change-events';
import { ChangeStreamSession } from './change-stream';
import { splitTableName, type cdcSettings, type CdcSettings } from './config';
import { formatLsn, type Lsn } from './lsn';
import type { CdcMetrics } from './metrics';
import { OrderedKafkaWriter } from './ordered-writer';
import { PgCatalog } from './pg-catalog';
import { openClient, ReplicationConnection } from './replication-connection';
import { planSlot } from './slot-plan';
import {
  checkTables,
  checkWalLevel,
  currentDatabase,
  ensurePublication,
  publicationTables,
  readSlot,
  SnapshotStateStore,
  type TableName,
} from './source-setup';
import { runSnapshot } from './snapshot';

const RECONNECT_POLICY = { initialMs: 500, maxMs: 30_000, multiplier: 2 };
/** A Kafka send outstanding this long makes /readyz false (normally a send takes milliseconds). */
const SEND_STALLED_MS = 5000;

export class CdcCapture {
  private readonly settings: CdcSettings;
  private readonly logger: Logger;
  private readonly writer: OrderedKafkaWriter;
  private readonly writerAbort = new AbortController();
  private readonly stopAbort = new AbortController();
  private readonly catalog: PgCatalog;
  private readonly state: SnapshotStateStore;
  private readonly tables: TableName[];
  private readonly knownTopics = new Set<string>();
  private readonly setStreaming: (ready: boolean) => void;
  private readonly setKafkaReady: (ready: boolean) => void;
  private confirmed: Lsn = 0n;
  private repl?: ReplicationConnection;
  private meta?: Client;
  private session?: ChangeStreamSession;
  private loop?: Promise<void>;
  private lastStatusMs = 0;
  private statusTimer?: NodeJS.Timeout;

  constructor(
    private readonly ctx: ServiceContext<typeof cdcSettings>,
    private readonly producer: Producer,
    private readonly admin: Admin,
    private readonly metrics: CdcMetrics,
  ) {
    this.settings = ctx.settings;
    this.logger = ctx.logger;
    this.catalog = new PgCatalog(ctx.logger, ctx.settings.topicTemplate);
    this.state = new SnapshotStateStore(ctx.settings.stateTable);
    this.tables = ctx.settings.tables.map(splitTableName);
    this.setStreaming = ctx.readiness.flag('replication');
    this.setKafkaReady = ctx.readiness.flag('kafka', true);
    this.writer = new OrderedKafkaWriter(producer, {
      maxBatchRecords: ctx.settings.batchMaxRecords,
      maxBatchBytes: ctx.settings.batchMaxBytes,
      maxBufferedRecords: ctx.settings.maxBufferedRecords,
      signal: this.writerAbort.signal,
      logger: ctx.logger,
      onSafe: (lsn, commitTimes) => this.onSafe(lsn, commitTimes),
      onSendDone: (records, seconds) => {
        this.setKafkaReady(true);
        metrics.produceSeconds.observe(seconds);
        metrics.produceBatchRecords.observe(records);
        metrics.bufferedRecords.set(this.writer.buffered);
      },
      onSendFailed: () => {
        this.setKafkaReady(false);
        metrics.produceErrors.inc();
      },
      // A lost broker surfaces as an error only after the client's own retries (~15 s); a send
      // that has not been acknowledged for 5 s already means Kafka is not taking records.
      onSendStalled: () => {
        this.setKafkaReady(false);
        this.logger.warn({ stalledAfterMs: SEND_STALLED_MS }, 'Kafka send not acknowledged yet; not ready until it is');
      },
      stalledAfterMs: SEND_STALLED_MS,
    });
  }

  start(): void {
    this.loop = this.run().catch((err) => this.ctx.fail(err));
  }

  private isCaptured = (schema: string, table: string): boolean => {
    if (`${schema}.${table}` === this.settings.stateTable) return false;
    return this.tables.length === 0 || this.tables.some((t) => t.schema === schema && t.table === table);
  };

  private readonly undecodableWarned = new Set<string>();

  /** Logged once per column: the value went out as the server's text instead. */
  private onUndecodable = (table: CapturedTable, column: string, err: unknown): void => {
    const id = `${table.schema}.${table.table}.${column}`;
    this.metrics.undecodableValues.inc();
    if (this.undecodableWarned.has(id)) return;
    this.undecodableWarned.add(id);
    this.logger.warn({ table: `${table.schema}.${table.table}`, column, err: errorMessage(err) }, 'value could not be decoded; sent as PostgreSQL text');
  };

  private beforeTable = (table: CapturedTable): Promise<void> => this.ensureTopic(table.topic);

  private async ensureTopic(topic: string): Promise<void> {
    if (this.knownTopics.has(topic)) return;
    const spec = { topic, partitions: this.settings.topicPartitions, replicationFactor: this.settings.topicReplicationFactor };
    await this.admin.ensureTopics([spec]).catch(async (err) => {
      // Another instance may have created it in between.
      if (!(await this.admin.listTopics()).includes(topic)) throw err;
    });
    this.knownTopics.add(topic);
  }

  private onSafe(lsn: Lsn, commitTimesMs: number[]) {
    const now = Date.now();
    for (const t of commitTimesMs) this.metrics.commitToAckSeconds.observe(Math.max(0, now - t) / 1000);
    this.metrics.transactions.inc(commitTimesMs.length);
    this.metrics.lagSeconds.set(commitTimesMs.length > 0 ? Math.max(0, now - commitTimesMs[commitTimesMs.length - 1]) / 1000 : 0);
    if (lsn <= this.confirmed) return;
    this.confirmed = lsn;
    this.metrics.confirmedLsn.set(Number(lsn));
    this.sendStatusSoon();
  }

  /** Confirms promptly, but at most every 100 ms (a status update per small transaction is waste). */
  private sendStatusSoon() {
    if (this.statusTimer) return;
    const wait = Math.max(0, this.lastStatusMs + 100 - Date.now());
    this.statusTimer = setTimeout(() => {
      this.statusTimer = undefined;
      this.lastStatusMs = Date.now();
      this.repl?.sendStatus(this.confirmed, false);
    }, wait);
  }

  private async run(): Promise<void> {
    // Transient failures are retried (logged once per state change); bad credentials stop the service.
    const retryConnect = (what: string, fn: () => Promise<void>) =>
      this.ctx.health.retry('kafka', `${what} connect`, fn, { signal: this.stopAbort.signal, policy: RECONNECT_POLICY });
    await retryConnect('producer', () => this.producer.connect());
    await retryConnect('admin', () => this.admin.connect());
    if (this.stopAbort.signal.aborted) return;
    for (let attempt = 0; !this.stopAbort.signal.aborted;) {
      let streamed = false;
      try {
        streamed = await this.session_();
      } catch (err) {
        if (this.stopAbort.signal.aborted) break;
        if (!canRetry(err)) throw err;
        this.logger.warn({ err: errorMessage(err), attempt }, 'PostgreSQL connection lost or failed; reconnecting');
        this.metrics.reconnects.inc({ cause: 'postgres' });
      } finally {
        this.setStreaming(false);
        await this.closeConnections();
      }
      if (this.stopAbort.signal.aborted) break;
      attempt = streamed ? 0 : attempt + 1;
      const delay = Math.max(200, backoffDelayMs(attempt, RECONNECT_POLICY));
      await sleep(delay, this.stopAbort.signal);
    }
  }

  /** One connect-snapshot-stream cycle. Returns true if it got as far as streaming. */
  private async session_(): Promise<boolean> {
    const s = this.settings;
    const meta = openClient(s.databaseUrl, false);
    meta.on('error', (err) => this.logger.warn({ err: errorMessage(err) }, 'metadata connection error'));
    this.meta = meta;
    await meta.connect();
    await checkWalLevel(meta);
    await checkTables(meta, this.tables);
    const db = await currentDatabase(meta);
    await this.state.ensure(meta);
    await ensurePublication(meta, s.publication, this.tables, this.logger);
    const slotRow = await readSlot(meta, s.slot);
    const record = await this.state.read(meta, s.slot);
    const plan = planSlot({ slot: s.slot, database: db, stateTable: s.stateTable, snapshotMode: s.snapshot, slotRow, record });

    // Topics of the configured tables exist before the first change, so consumers can subscribe early.
    for (const t of this.tables) await this.ensureTopic(topicFor(s.topicTemplate, t.schema, t.table));

    const repl = await ReplicationConnection.open(s.databaseUrl);
    this.repl = repl;
    if (plan.action === 'create') {
      if (plan.dropFirst) {
        this.logger.warn({ slot: s.slot }, 'the previous snapshot did not finish; dropping the slot it created and snapshotting again');
        await meta.query('SELECT pg_drop_replication_slot($1)', [s.slot]);
      }
      if (plan.snapshot) await this.state.write(meta, s.slot, 'running', null);
      const created = await repl.createSlot(s.slot, plan.snapshot);
      this.logger.info({ slot: s.slot, consistentPoint: formatLsn(created.consistentPoint) }, 'created replication slot');
      if (plan.snapshot && created.snapshotName) {
        const tables = this.tables.length > 0 ? this.tables : (await publicationTables(meta, s.publication)).filter((t) => this.isCaptured(t.schema, t.table));
        const snapClient = openClient(s.databaseUrl, false);
        // Errors surface through the query in flight; never crash the process.
        snapClient.on('error', () => undefined);
        await snapClient.connect();
        try {
          this.logger.info({ tables: tables.map((t) => `${t.schema}.${t.table}`) }, 'snapshot started');
          const rows = await runSnapshot({
            client: snapClient,
            snapshotName: created.snapshotName,
            consistentPoint: created.consistentPoint,
            db,
            tables,
            catalog: this.catalog,
            writer: this.writer,
            metrics: this.metrics,
            logger: this.logger,
            fetchRows: s.snapshotFetchRows,
            tombstones: s.tombstones,
            signal: this.stopAbort.signal,
            beforeTable: this.beforeTable,
            onUndecodable: this.onUndecodable,
          });
          if (this.stopAbort.signal.aborted) throw new Error('stopped during the snapshot');
          this.logger.info({ rows }, 'snapshot done; every row is acknowledged by Kafka');
        } finally {
          await snapClient.end().catch(ignoreFailure(this.logger, 'closing the snapshot connection'));
        }
      }
      await this.state.write(meta, s.slot, plan.snapshot ? 'done' : 'skipped', formatLsn(created.consistentPoint));
    } else if (plan.adopt) {
      this.logger.info({ slot: s.slot }, 'reusing an existing slot that has no snapshot record: streaming from its position without a snapshot');
      await this.state.write(meta, s.slot, 'skipped', null);
    }

    const session = new ChangeStreamSession({
      repl,
      meta,
      catalog: this.catalog,
      writer: this.writer,
      metrics: this.metrics,
      logger: this.logger,
      db,
      tombstones: s.tombstones,
      isCaptured: this.isCaptured,
      beforeTable: this.beforeTable,
      onUndecodable: this.onUndecodable,
    });
    this.session = session;
    repl.start(s.slot, s.publication, { onData: (p) => session.onData(p), onEnd: (err) => session.onEnd(err) });
    this.setStreaming(true);
    this.logger.info({ slot: s.slot, publication: s.publication }, 'streaming changes');
    const heartbeat = setInterval(() => void this.heartbeat(meta, repl, session), s.heartbeatMs);
    try {
      const err = await session.run();
      if (this.stopAbort.signal.aborted) return true;
      // Records handed to the writer stay valid: let them reach Kafka before replaying from the slot.
      throw err ?? new Error('replication stream ended');
    } finally {
      clearInterval(heartbeat);
      this.session = undefined;
    }
  }

  private async heartbeat(meta: Client, repl: ReplicationConnection, session: ChangeStreamSession): Promise<void> {
    repl.sendStatus(this.confirmed, true);
    this.lastStatusMs = Date.now();
    this.metrics.bufferedRecords.set(this.writer.buffered);
    if (this.writer.buffered === 0) this.metrics.lagSeconds.set(0);
    try {
      const res = await meta.query<{ lag: string | null; wal_status: string | null }>(
        'SELECT (pg_current_wal_lsn() - confirmed_flush_lsn)::text AS lag, wal_status FROM pg_replication_slots WHERE slot_name = $1',
        [this.settings.slot],
      );
      const row = res.rows[0];
      if (row?.lag != null) this.metrics.lagBytes.set(Math.max(0, Number(row.lag)));
      if (!row || row.wal_status === 'lost') session.onEnd(new Error(`replication slot ${row ? 'invalidated' : 'disappeared'} while streaming`));
    } catch (err) {
      session.onEnd(err as Error);
    }
  }

  private async closeConnections(): Promise<void> {
    const repl = this.repl;
    const meta = this.meta;
    this.repl = undefined;
    this.meta = undefined;
    // Whatever was read stays queued in the writer and still reaches Kafka; only then is it confirmed.
    await this.writer.drain().catch(ignoreFailure(this.logger, 'delivering what was read before the stop', {}, 'warn'));
    if (repl) {
      repl.sendStatus(this.confirmed, false);
      await repl.close().catch(ignoreFailure(this.logger, 'closing the replication connection'));
    }
    await meta?.end().catch(ignoreFailure(this.logger, 'closing the metadata connection'));
  }

  /** Graceful stop: stop reading, let Kafka acknowledge what was read, confirm it, disconnect. */
  async stop(): Promise<void> {
    this.stopAbort.abort();
    this.session?.onEnd(undefined);
    this.repl?.pause();
    await this.loop;
    if (this.statusTimer) clearTimeout(this.statusTimer);
    this.writerAbort.abort();
    await this.producer.disconnect().catch(ignoreFailure(this.logger, 'producer disconnect'));
    await this.admin.disconnect().catch(ignoreFailure(this.logger, 'admin disconnect'));
    this.logger.info({ confirmedLsn: formatLsn(this.confirmed) }, 'capture stopped');
  }
}
