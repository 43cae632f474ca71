/**
 * Lookup tables: the latest row per key of a topic (a CDC table topic, say `accounts.changes`),
 * kept in memory by every instance, like a Kafka Streams GlobalKTable. Each instance reads the
 * whole topic with its own throw-away group and never commits, so it always starts from the
 * beginning. A lookup sees the newest row this instance has read when it evaluates an event.
 */
import { randomUUID } from 'node:crypto';
import { getPath, type Consumer, type KafkaClient, type Logger } from '@tideway/runtime';
import type { TableSpec } from '../rules/rule-file';
import { keyString } from '../rules/values';
import { decodeEvent } from '../pipeline/event-decoder';

export class LookupTables {
  private readonly rows = new Map<string, Map<string, Record<string, unknown>>>();
  private consumer?: Consumer;
  private readonly specsByTopic = new Map<string, TableSpec[]>();

  constructor(
    private readonly kafka: KafkaClient,
    private readonly groupPrefix: string,
    private readonly logger: Logger,
  ) {}

  get(table: string, key: string): Record<string, unknown> | undefined {
    return this.rows.get(table)?.get(key);
  }

  /** Starts reading; resolves once every table topic has been read up to its end at start time (or the timeout passes). */
  async start(specs: TableSpec[], timeoutMs: number): Promise<void> {
    if (specs.length === 0) return;
    for (const s of specs) {
      this.rows.set(s.id, new Map());
      let list = this.specsByTopic.get(s.topic);
      if (!list) this.specsByTopic.set(s.topic, (list = []));
      list.push(s);
    }
    const admin = this.kafka.admin();
    await admin.connect();
    const targets = new Map<string, bigint>();
    try {
      for (const topic of this.specsByTopic.keys()) for (const o of await admin.endOffsets(topic)) if (BigInt(o.offset) > 0n) targets.set(`${topic}:${o.partition}`, BigInt(o.offset));
    } finally {
      await admin.disconnect();
    }
    let markLoaded!: () => void;
    const loaded = new Promise<void>((r) => (markLoaded = r));
    if (targets.size === 0) markLoaded();
    this.consumer = this.kafka.consumer({ groupId: `${this.groupPrefix}.tables.${randomUUID()}`, fromBeginning: true, readCommitted: true, maxWaitTimeMs: 200 });
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
    if ((await Promise.race([loaded, timer])) === 'timeout') this.logger.warn({ pending: [...targets.keys()] }, 'lookup tables not fully read before ALERTING_TABLE_LOAD_TIMEOUT_MS; evaluating with what is loaded');
    else this.logger.info({ tables: specs.map((s) => s.id), rows: [...this.rows.values()].reduce((n, m) => n + m.size, 0) }, 'lookup tables loaded');
  }

  private apply(spec: TableSpec, m: import('@tideway/runtime').IncomingMessage) {
    let doc;
    try {
      doc = decodeEvent(m);
    } catch (err) {
      this.logger.warn({ table: spec.id, topic: m.topic, partition: m.partition, offset: m.offset, err: (err as Error).message }, 'skipping unreadable table record');
      return;
    }
    if (doc === null) return; // tombstone: the delete event before it already removed the row
    const isChange = 'op' in doc && 'source' in doc;
    const row = isChange ? (doc.op === 'd' ? null : (doc.after as Record<string, unknown> | null)) : doc;
    const key = keyString(getPath(isChange && doc.op === 'd' ? { ...doc, after: doc.before } : doc, spec.keyPath));
    if (key === undefined) return;
    const table = this.rows.get(spec.id)!;
    if (row === null) table.delete(key);
    else table.set(key, row);
  }

  async stop(): Promise<void> {
    await this.consumer?.disconnect().catch(() => undefined);
  }
}
