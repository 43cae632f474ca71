/**
 * Helpers for cdc integration tests on the real local stack: slot and publication names, a child
 * `tideway cdc`, reading change topics back (test-support/kafka-read.ts), and cleanup of
 * exactly what a test created (slots pin WAL on the shared server, so they are always dropped).
 */
import { Client } from 'pg';
import type { IncomingMessage } from '@tideway/runtime';
import { json as recordJson, readTopicUntil } from '../../../test-support/kafka-read';
import { dropCdcArtifacts, type CdcNames } from '../../../test-support/cdc-artifacts';
import { TidewayProcess } from '../../../test-support/tideway-process';

export const DATABASE_URL = process.env.CDC_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:55432/app';
export const STATE_TABLE = 'public.tideway_cdc_state';

export async function pg(url = DATABASE_URL): Promise<Client> {
  const c = new Client({ connectionString: url });
  c.on('error', () => undefined);
  await c.connect();
  return c;
}

export type { CdcNames };
export { dropCdcArtifacts as cleanup };

export function names(id: string): CdcNames {
  return { slot: `cdc_test_${id}`, publication: `cdc_test_pub_${id}` };
}

export function startCdc(n: CdcNames, tables: string[], env: NodeJS.ProcessEnv = {}): Promise<TidewayProcess> {
  return TidewayProcess.start('cdc', {
    CDC_DATABASE_URL: DATABASE_URL,
    CDC_TABLES: tables.join(','),
    CDC_SLOT: n.slot,
    CDC_PUBLICATION: n.publication,
    CDC_HEARTBEAT_MS: '1000',
    KAFKAJS_NO_PARTITIONER_WARNING: '1',
    ...env,
  });
}

/** Reads a change topic the service creates (waiting for it to exist) from the beginning until `done` holds. */
export function readTopic(topic: string, done: (all: IncomingMessage[]) => boolean, timeoutMs = 90_000, brokers?: string): Promise<IncomingMessage[]> {
  return readTopicUntil(topic, done, { timeoutMs, brokers, awaitTopic: true });
}

/** A change event (null for a tombstone). */
export function json(m: IncomingMessage): Record<string, unknown> | null {
  return recordJson<Record<string, unknown> | null>(m);
}

/**
 * Reads a VersionedWriter's change topic until every key's last event carries its committed
 * version; `missing` lists the keys (and versions) that never got there.
 */
export async function readCommittedVersions(
  topic: string,
  committed: Map<number, number>,
  timeoutMs: number,
  brokers?: string,
): Promise<{ messages: IncomingMessage[]; missing: Array<[number, number]> }> {
  const last = new Map<number, number>();
  const messages = await readTopic(
    topic,
    (all) => {
      last.clear();
      for (const m of all) {
        const ev = json(m);
        if (ev?.after) last.set((ev.after as { id: number }).id, (ev.after as { version: number }).version);
      }
      return [...committed].every(([k, v]) => last.get(k) === v);
    },
    timeoutMs,
    brokers,
  );
  return { messages, missing: [...committed].filter(([k, v]) => last.get(k) !== v) };
}

/**
 * A continuous write load on a `(id int primary key, version int)` table whose rows 1..n start at
 * version 1: small multi-row transactions bump versions and now and then insert a row. `committed`
 * holds each key's version once its COMMIT returned — what must end up in Kafka.
 */
export class VersionedWriter {
  readonly committed = new Map<number, number>();
  transactions = 0;
  private writing = true;
  private readonly loop: Promise<void>;

  constructor(db: Client, table: string, seededRows: number, opts: { maxKeysPerTransaction: number; pauseMs?: number }) {
    for (let i = 1; i <= seededRows; i++) this.committed.set(i, 1);
    let nextId = seededRows + 1;
    this.loop = (async () => {
      while (this.writing) {
        const ids = new Set<number>();
        for (let j = 0; j < 1 + Math.floor(Math.random() * opts.maxKeysPerTransaction); j++) ids.add(1 + Math.floor(Math.random() * (nextId - 1)));
        const inserted = Math.random() < 0.1 ? nextId++ : undefined;
        await db.query('BEGIN');
        const versions = new Map<number, number>();
        for (const k of [...ids].sort((a, b) => a - b)) {
          const r = await db.query<{ version: number }>(`UPDATE ${table} SET version = version + 1 WHERE id = $1 RETURNING version`, [k]);
          versions.set(k, r.rows[0].version);
        }
        if (inserted !== undefined) {
          await db.query(`INSERT INTO ${table} VALUES ($1, 1)`, [inserted]);
          versions.set(inserted, 1);
        }
        await db.query('COMMIT');
        this.transactions++;
        for (const [k, v] of versions) this.committed.set(k, v);
        if (opts.pauseMs) await new Promise((r) => setTimeout(r, opts.pauseMs));
      }
    })();
  }

  /** Finishes the transaction under way and stops. */
  async stop(): Promise<void> {
    this.writing = false;
    await this.loop;
  }
}

/**
 * Per key of a VersionedWriter's table, what the change events read back get wrong: first
 * occurrences of versions must run up by one with no gap and no step back (a resent batch may
 * repeat records: at least once) and end at the committed version; with `startAtOne`, begin at 1.
 */
export function perKeyOrderProblems(messages: IncomingMessage[], committed: Map<number, number>, startAtOne: boolean): { problems: string[]; keys: number } {
  const perKey = new Map<number, number[]>();
  for (const m of messages) {
    const ev = json(m);
    if (!ev?.after) continue;
    const { id: k, version } = ev.after as { id: number; version: number };
    if (!perKey.has(k)) perKey.set(k, []);
    perKey.get(k)!.push(version);
  }
  const problems: string[] = [];
  for (const [k, versions] of perKey) {
    const firsts = [...new Set(versions)];
    if (startAtOne && firsts[0] !== 1) problems.push(`key ${k}: starts at ${firsts[0]}`);
    for (let i = 1; i < firsts.length; i++) if (firsts[i] !== firsts[i - 1] + 1) problems.push(`key ${k}: ${versions.join(',')}`);
    if (firsts[firsts.length - 1] !== committed.get(k)) problems.push(`key ${k}: ends at ${firsts.at(-1)}, committed ${committed.get(k)}`);
  }
  return { problems, keys: perKey.size };
}
