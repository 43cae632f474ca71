/**
 * Lookup tables: the latest row per key of a topic (a CDC table topic, say `accounts.changes`),
 * kept in memory by every instance, like a Kafka Streams GlobalKTable. Each instance reads the
 * whole topic with its own throw-away group and never commits, so it always starts from the
 * beginning. A lookup sees the newest row this instance has read when it evaluates an event.
 */
import { randomUUID } from 'node:crypto';
import { getPath, ignoreFailure, type Consumer, type KafkaClient, type Logger } from '@tideway/runtime';
import type { TableSpec } from '../rules/rule-file';
import { keyString } from '../rules/values';
import { decodeEvent } from '../pipeline/event-decoder';

type Row = Record<string, unknown>;

/** One change of a lookup table (a null row deletes the key); also how evaluation threads' copies follow. */
export type TableChange = [table: string, key: string, row: Row | null];

/** The rows of the lookup tables by table id and key. Pure. */
export class TableRows {
  private readonly tables = new Map<string, Map<string, Row>>();

  get(table: string, key: string): Row | undefined {
    return this.tables.get(table)?.get(key);
  }

  apply([table, key, row]: TableChange): void {
    let rows = this.tables.get(table);
    if (!rows) this.tables.set(table, (rows = new Map()));
    if (row === null) rows.delete(key);
    else rows.set(key, row);
  }

  /** Every row, as the changes that rebuild the tables from empty. */
  snapshot(): TableChange[] {
    const out: TableChange[] = [];
    for (const [table, rows] of this.tables) for (const [key, row] of rows) out.push([table, key, row]);
    return out;
  }

  get size(): number {
    let n = 0;
    for (const rows of this.tables.values()) n += rows.size;
    return n;
  }
}

export class LookupTables {
  private readonly rows = new TableRows();
  private consumer?: Consumer;
  private readonly specsByTopic = new Map<string, TableSpec[]>();
  private readonly followers = new Set<(c: TableChange) => void>();

  constructor(
    private readonly kafka: KafkaClient,
    private readonly groupPrefix: string,
    private readonly logger: Logger,
  ) {}

  get(table: string, key: string): Row | undefined {
    return this.rows.get(table, key);
  }

  /**
   * For a copy kept elsewhere (an evaluation thread, built from `snapshot()`): every change from
   * now on is passed to `follower` as it is read. Call the returned function to stop following.
   */
  follow(follower: (c: TableChange) => void): () => void {
    this.followers.add(follower);
    return () => this.followers.delete(follower);
  }

  /** Every row now, as changes. */
  snapshot(): TableChange[] {
    return this.rows.snapshot();
  }

  /** Starts reading; resolves once every table topic has been read up to its end at start time (or the timeout passes). */
  async start(specs: TableSpec[], timeoutMs: number): Promise<void> {
    if (specs.length === 0) return;
    for (const s of specs) {
      let list = this.specsByTopic.get(s.topic);
      if (!list) this.specsByTopic.set(s.topic, (list = []));
      list.push(s);
    }
    const admin = this.kafka.admin();
    await admin.connect();
    const targets = new Map<string, bigint>();
    try {
      for (const topic of this.specsByTopic.keys()) {
        for (const o of await admin.endOffsets(topic)) if (BigInt(o.offset) > 0n) targets.set(`${topic}:${o.partition}`, BigInt(o.offset));
      }
    } finally {
      await admin.disconnect();
    }
    let markLoaded!: () => void;
    const loaded = new Promise<void>((r) => (markLoaded = r));
    if (targets.size === 0) markLoaded();
    const groupId = `${this.groupPrefix}.tables.${randomUUID()}`;
    this.consumer = this.kafka.consumer({ groupId, fromBeginning: true, readCommitted: true, maxWaitTimeMs: 200 });
    await this.consumer.connect();
    await this.consumer.subscribe([...this.specsByTopic.keys()]);
    void this.consumer.run(async (batch) => {
      for (const m of batch.messages) {
        for (const spec of this.specsByTopic.get(m.topic) ?? []) this.apply(spec, m);
        const id = `${m.topic}:${m.partition}`;
        const target = targets.get(id);
        // A transactional producer's last record is followed by a commit marker, hence the -2.
        if (target !== undefined && BigInt(m.offset) >= target - 2n) {
          targets.delete(id);
          if (targets.size === 0) markLoaded();
        }
      }
    });
    const timer = new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), timeoutMs).unref());
    if ((await Promise.race([loaded, timer])) === 'timeout') {
      this.logger.warn({ pending: [...targets.keys()] }, 'lookup tables not fully read before ALERTING_TABLE_LOAD_TIMEOUT_MS; evaluating with what is loaded');
    } else this.logger.info({ tables: specs.map((s) => s.id), rows: this.rows.size }, 'lookup tables loaded');
  }

  private apply(spec: TableSpec, m: import('@tideway/runtime').IncomingMessage) {
    let doc;
    try {
      doc = decodeEvent(m);
    } catch (err) {
      const where = { table: spec.id, topic: m.topic, partition: m.partition, offset: m.offset };
      this.logger.warn({ ...where, err: (err as Error).message }, 'skipping unreadable table record');
      return;
    }
    if (doc === null) return; // tombstone: the delete event before it already removed the row
    const isChange = 'op' in doc && 'source' in doc;
    const row = isChange ? (doc.op === 'd' ? null : (doc.after as Record<string, unknown> | null)) : doc;
    const key = keyString(getPath(isChange && doc.op === 'd' ? { ...doc, after: doc.before } : doc, spec.keyPath));
    if (key === undefined) return;
    const change: TableChange = [spec.id, key, row];
    this.rows.apply(change);
    for (const f of this.followers) f(change);
  }

  async stop(): Promise<void> {
    await this.consumer?.disconnect().catch(ignoreFailure(this.logger, 'lookup table consumer disconnect'));
  }
}
