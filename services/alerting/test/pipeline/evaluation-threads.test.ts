import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLogger } from '@tideway/runtime';
import type { LookupTables, TableChange } from '../../src/io/table-store';
import { TableRows } from '../../src/io/table-store';
import { evaluateBatch, type BatchEvaluation } from '../../src/pipeline/batch-evaluation';
import { EvaluationThreads, InlineEvaluation } from '../../src/pipeline/evaluation-threads';
import { RuleIndex, type EvaluatedMessage } from '../../src/pipeline/input-evaluator';
import { decodeRepartitionValue, RepartitionBundler } from '../../src/pipeline/repartition-bundles';
import { parseRuleFile } from '../../src/rules/rule-file';

// The threads run the compiled worker script: `npm test` builds before the unit tests.
const WORKER = join(__dirname, '..', '..', 'dist', 'pipeline', 'evaluation-worker.js');

const RULES = `
tables:
  - { id: accounts, topic: accounts.changes, key: after.account_id }
rules:
  - { id: big, topic: tx, severity: high, keyBy: account_id, when: amount > 100 }
  - { id: away, topic: tx, severity: medium, lookup: { acct: { table: accounts, key: account_id } }, when: 'acct != null && country != acct.country' }
  - { id: night, topic: tx, severity: low, eventTime: ts, when: 'timestamp(ts).getHours("UTC") < 5' }
aggregations:
  - { id: spend, topic: tx, keyBy: account_id, eventTime: ts, window: { type: tumbling, size: 1m }, aggregate: { n: count, total: sum(amount) }, sink: spend.1m }
`;
const ruleSet = parseRuleFile(RULES, 'r.yaml');

/** Lookup tables without Kafka: the rows and the follow/snapshot contract the threads use. */
class TablesInMemory {
  private readonly rows = new TableRows();
  private readonly followers = new Set<(c: TableChange) => void>();
  get(table: string, key: string) {
    return this.rows.get(table, key);
  }
  change(c: TableChange) {
    this.rows.apply(c);
    for (const f of this.followers) f(c);
  }
  follow(f: (c: TableChange) => void) {
    this.followers.add(f);
    return () => this.followers.delete(f);
  }
  snapshot() {
    return this.rows.snapshot();
  }
}

function messages(n: number, first = 0): EvaluatedMessage[] {
  return Array.from({ length: n }, (_, i) => {
    const j = first + i;
    const doc = {
      account_id: `A${j % 5}`,
      amount: (j * 37) % 250,
      country: j % 3 === 0 ? 'FR' : 'DE',
      ts: new Date(Date.UTC(2026, 10, 22, j % 24, j % 60)).toISOString(),
    };
    return {
      topic: 'tx',
      partition: 2,
      offset: String(1000 + j),
      timestamp: Date.UTC(2026, 10, 22),
      value: j % 17 === 16 ? Buffer.from('{oops') : Buffer.from(JSON.stringify(doc)),
    };
  });
}

/** What reaches Kafka from a result: everything but the timing. */
function comparable(r: BatchEvaluation) {
  const bundler = new RepartitionBundler();
  bundler.addFragments(r.forwarded);
  const forwarded = bundler
    .records('g.repartition')
    .map((rec) => ({ partition: rec.partition, events: decodeRepartitionValue(Buffer.from(rec.value as string)) }));
  return { alertRecords: r.alertRecords, alertCounts: r.alertCounts, forwarded, deadLetters: r.deadLetters, evaluationErrors: r.evaluationErrors };
}

describe('evaluation threads', () => {
  let tables: TablesInMemory;
  let threads: EvaluationThreads;

  beforeAll(() => {
    if (!existsSync(WORKER)) throw new Error(`${WORKER} is missing: run \`npm run build\` first`);
  });

  beforeEach(() => {
    tables = new TablesInMemory();
    tables.change(['accounts', 'A1', { account_id: 'A1', country: 'FR' }]);
    threads = new EvaluationThreads({
      count: 2,
      ruleSet,
      tables: tables as unknown as LookupTables,
      alertsTopic: 'alerts',
      logger: createLogger('test', 'silent'),
      workerFile: WORKER,
    });
  });

  afterEach(() => threads.close());

  it('gives the same result as evaluating on the calling thread, for batches spread over several threads', async () => {
    const inline = new InlineEvaluation(new RuleIndex(ruleSet), tables as unknown as LookupTables, 'alerts');
    const batches = [messages(300, 0), messages(200, 300), messages(50, 500)];
    const [viaThreads, here] = await Promise.all([
      Promise.all(batches.map((b) => threads.evaluate(b, 4))),
      Promise.all(batches.map((b) => inline.evaluate(b, 4))),
    ]);
    expect(viaThreads.map(comparable)).toEqual(here.map(comparable));
    // The batches did produce each kind of output.
    const all = viaThreads.map(comparable);
    expect(all.every((r) => r.alertRecords.length > 0 && r.forwarded.length > 0 && r.deadLetters.length > 0)).toBe(true);
    expect(all[0].deadLetters[0]).toEqual({ index: 16, reason: 'malformed_json', error: expect.stringContaining('not JSON') });
  });

  it('follows lookup-table changes made after the threads started', async () => {
    const away = async () =>
      (
        await threads.evaluate(
          [
            {
              topic: 'tx',
              partition: 0,
              offset: '1',
              timestamp: 0,
              value: Buffer.from(JSON.stringify({ account_id: 'A2', amount: 1, country: 'ES', ts: '2026-11-22T12:00:00Z' })),
            },
          ],
          1,
        )
      ).alertCounts;
    expect(await away()).toEqual([]);
    tables.change(['accounts', 'A2', { account_id: 'A2', country: 'PT' }]);
    expect(await away()).toEqual([{ rule: 'away', severity: 'medium', n: 1 }]);
    tables.change(['accounts', 'A2', null]);
    expect(await away()).toEqual([]);
  });

  it('switches to new rules for the batches sent after setRules', async () => {
    const batch = messages(40);
    const before = await threads.evaluate(batch, 4);
    threads.setRules(new RuleIndex(parseRuleFile(RULES.replace('amount > 100', 'amount > 1000000'), 'r.yaml')));
    const after = await threads.evaluate(batch, 4);
    expect(before.alertCounts.map((c) => c.rule)).toContain('big');
    expect(after.alertCounts.map((c) => c.rule)).not.toContain('big');
    expect(evaluateBatch(new RuleIndex(ruleSet), batch, (t, k) => tables.get(t, k), 4, 'alerts').alertCounts).toEqual(before.alertCounts);
  });

  it('fails the batches of a thread that dies, and replaces the thread', async () => {
    // The real worker, plus a listener (registered first) that ends the thread on offset 666.
    const crashing = join(mkdtempSync(join(tmpdir(), 'tideway-eval-')), 'crashing-worker.js');
    writeFileSync(
      crashing,
      `const { parentPort } = require('node:worker_threads');\nparentPort.on('message', (m) => { if (m.type === 'evaluate' && m.offsets[0] === '666') process.exit(3); });\nrequire(${JSON.stringify(WORKER)});\n`,
    );
    let deaths = 0;
    const one = new EvaluationThreads({
      count: 1,
      ruleSet,
      tables: tables as unknown as LookupTables,
      alertsTopic: 'alerts',
      logger: createLogger('test', 'silent'),
      workerFile: crashing,
      onThreadDied: () => deaths++,
    });
    try {
      const fatal = { ...messages(1)[0], offset: '666' };
      await expect(one.evaluate([fatal], 4)).rejects.toThrow('evaluation thread died');
      const after = await one.evaluate(messages(40), 4);
      expect(after.alertCounts.length).toBeGreaterThan(0);
      expect(deaths).toBe(1);
    } finally {
      await one.close();
    }
  });

  it('fails the batches still out when closed, and every later one', async () => {
    const out = expect(threads.evaluate(messages(2000), 4)).rejects.toThrow('closed');
    await threads.close();
    await out;
    await expect(threads.evaluate(messages(1), 4)).rejects.toThrow('closed');
  });
});
