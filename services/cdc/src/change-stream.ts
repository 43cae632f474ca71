/**
 * One replication session: reads the slot's stream in order, turns changes into records for
 * the ordered Kafka writer, and confirms to the server only positions whose transactions Kafka
 * has fully acknowledged. Reading pauses (at the socket) while the writer is full, so memory
 * stays bounded whatever the size of a transaction.
 */
import type { Client } from 'pg';
import type { Logger, OutgoingMessage } from '@tideway/runtime';
import { deleteRecordsFor, insertRecords, truncateRecord, updateRecords, type BuildOptions, type CapturedTable, type SourcePosition } from './change-events';
import type { Lsn } from './lsn';
import type { CdcMetrics } from './metrics';
import type { OrderedKafkaWriter } from './ordered-writer';
import { decodePgOutput, type PgOutputMessage } from './pgoutput';
import type { PgCatalog } from './pg-catalog';
import type { ReplicationConnection } from './replication-connection';
import { parseReplicationMessage } from './replication-protocol';

/** Payloads queued between the socket and the decoder before the socket is paused. */
const INBOX_HIGH = 2_000;
const INBOX_LOW = 200;

export interface ChangeStreamDeps {
  repl: ReplicationConnection;
  meta: Client;
  catalog: PgCatalog;
  writer: OrderedKafkaWriter;
  metrics: CdcMetrics;
  logger: Logger;
  db: string;
  tombstones: boolean;
  /** Whether a table's changes are captured (configured tables; never the state table). */
  isCaptured(schema: string, table: string): boolean;
  /** Called before the first record of a newly described table (to create its topic). */
  beforeTable(table: CapturedTable): Promise<void>;
  onUndecodable: BuildOptions['onUndecodable'];
}

export class ChangeStreamSession {
  private inbox: Buffer[] = [];
  private inboxHead = 0;
  private paused = false;
  private wakeReader?: () => void;
  private ended = false;
  private endError: Error | undefined;
  private readonly tables = new Map<number, CapturedTable | null>();
  private tx: { xid: number; commitTimeMs: number } | undefined;

  constructor(private readonly d: ChangeStreamDeps) {}

  /** Feeds raw CopyData payloads (from ReplicationConnection). */
  onData(payload: Buffer): void {
    this.inbox.push(payload);
    if (!this.paused && this.inbox.length - this.inboxHead >= INBOX_HIGH) this.setPaused(true);
    this.wake();
  }

  /** The connection ended; `run` finishes after handling what was already received. */
  onEnd(err: Error | undefined): void {
    this.ended = true;
    this.endError = err;
    this.wake();
  }

  private wake() {
    const w = this.wakeReader;
    this.wakeReader = undefined;
    w?.();
  }

  private setPaused(paused: boolean) {
    this.paused = paused;
    this.d.metrics.readPaused.set(paused ? 1 : 0);
    if (paused) this.d.metrics.readPauses.inc();
    if (paused) this.d.repl.pause();
    else this.d.repl.resume();
  }

  /** Processes the stream until the connection ends; resolves with the reason. */
  async run(): Promise<Error | undefined> {
    for (;;) {
      if (this.inboxHead >= this.inbox.length) {
        this.inbox = [];
        this.inboxHead = 0;
        if (this.ended) return this.endError;
        await new Promise<void>((resolve) => (this.wakeReader = resolve));
        continue;
      }
      const payload = this.inbox[this.inboxHead++];
      if (this.paused && this.inbox.length - this.inboxHead <= INBOX_LOW) this.setPaused(false);
      if (this.inboxHead > 4096) {
        this.inbox = this.inbox.slice(this.inboxHead);
        this.inboxHead = 0;
      }
      await this.handle(payload);
      if (this.d.writer.buffered > 0) await this.d.writer.waitForCapacity();
    }
  }

  private async handle(payload: Buffer): Promise<void> {
    const msg = parseReplicationMessage(payload);
    if (msg.kind === 'keepalive') {
      // Outside a transaction everything the server sent before walEnd has been handed to the
      // writer, so walEnd is safe once those records are acknowledged: this keeps the slot moving
      // while captured tables are quiet.
      if (!this.tx) this.d.writer.markSafeAfterPushed(msg.walEnd);
      return;
    }
    const m = decodePgOutput(msg.data);
    await this.apply(m, msg.walStart);
  }

  private async apply(m: PgOutputMessage, lsn: Lsn): Promise<void> {
    switch (m.tag) {
      case 'begin':
        this.tx = { xid: m.xid, commitTimeMs: m.commitTimeMs };
        return;
      case 'commit':
        this.d.writer.markSafeAfterPushed(m.endLsn, m.commitTimeMs);
        this.tx = undefined;
        return;
      case 'relation': {
        if (!this.d.isCaptured(m.schema, m.table)) {
          this.tables.set(m.relationId, null);
          return;
        }
        const table = await this.d.catalog.describe(this.d.meta, m.relationId, m.schema, m.table, m.columns, m.replicaIdentity);
        const previous = this.tables.get(m.relationId);
        if (previous && previous.columnsHeader !== table.columnsHeader)
          this.d.logger.info({ table: `${m.schema}.${m.table}`, columns: table.columns.map((c) => c.name) }, 'table definition changed');
        await this.d.beforeTable(table);
        this.tables.set(m.relationId, table);
        return;
      }
      case 'insert':
      case 'update':
      case 'delete': {
        const table = this.tables.get(m.relationId);
        if (!table) {
          if (table === undefined) throw new Error(`change for relation ${m.relationId} arrived before its Relation message`);
          return;
        }
        const pos = this.position(lsn);
        const opts: BuildOptions = { tombstones: this.d.tombstones, nowMs: Date.now(), onUndecodable: this.d.onUndecodable };
        const records =
          m.tag === 'insert'
            ? insertRecords(table, m.newTuple, pos, opts)
            : m.tag === 'update'
              ? updateRecords(table, m.oldKind, m.oldTuple, m.newTuple, pos, opts)
              : deleteRecordsFor(table, m.oldKind, m.oldTuple, pos, opts);
        // A key change is a delete plus a create; a tombstone is not an event.
        const ops = m.tag === 'insert' ? ['c'] : m.tag === 'delete' ? ['d'] : records.length > 1 ? ['d', 'c'] : ['u'];
        this.emit(table, records, ops);
        return;
      }
      case 'truncate': {
        const opts: BuildOptions = { tombstones: this.d.tombstones, nowMs: Date.now() };
        for (const id of m.relationIds) {
          const table = this.tables.get(id);
          if (table) this.emit(table, [truncateRecord(table, this.position(lsn), opts)], ['t']);
        }
        return;
      }
      default:
        return; // origin, type, logical messages: nothing to capture
    }
  }

  private position(lsn: Lsn): SourcePosition {
    return { db: this.d.db, lsn, txId: this.tx?.xid ?? null, commitTimeMs: this.tx?.commitTimeMs ?? Date.now(), snapshot: 'false' };
  }

  private emit(table: CapturedTable, records: OutgoingMessage[], ops: string[]) {
    for (const op of ops) this.d.metrics.eventsFor(table.schema, table.table, op).inc();
    this.d.writer.push(records);
  }
}
