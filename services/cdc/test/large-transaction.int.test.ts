/**
 * One 200,000-row transaction streams through a `tideway cdc` whose V8 heap is capped well below
 * what buffering the whole transaction would take: reading pauses while Kafka is behind.
 */
import type { TidewayProcess } from '../../../test-support/tideway-process';
import { uniqueSuffix } from '../../../test-support/stack';
import { cleanup, names, pg, readTopic, startCdc } from './cdc-test-support';

jest.setTimeout(600_000);

const ROWS = 200_000;
/** Heap ceiling for the child. Holding 200,000 events (~600 B of JSON each plus objects) needs several times this. */
const HEAP_MB = 64;
/**
 * Young generation bound for the child. Node 24's V8 grows semi-spaces far larger by default (the
 * same run peaks at ~270 MiB RSS, ~150 MiB with this), which measures V8's defaults, not the
 * service's backpressure. Operators set it the same way (docs/cdc.md, "Memory").
 */
const SEMI_SPACE_MB = 8;

describe('tideway cdc with a 200,000-row transaction', () => {
  const id = uniqueSuffix();
  const n = names(id);
  const table = `cdc_big_${id}`;
  let cdc: TidewayProcess | undefined;

  afterAll(async () => {
    await cdc?.kill();
    await cleanup(n, [table], [`${table}.changes`]);
  });

  it('delivers every row with bounded memory', async () => {
    const db = await pg();
    await db.query(`CREATE TABLE ${table} (id int PRIMARY KEY, pad text)`);
    cdc = await startCdc(n, [`public.${table}`], {
      CDC_SNAPSHOT: 'never',
      NODE_OPTIONS: `--max-old-space-size=${HEAP_MB} --max-semi-space-size=${SEMI_SPACE_MB}`,
    });
    await cdc.waitReady();

    let maxRss = 0;
    const sample = async () => {
      const text = await cdc!.metrics().catch(() => '');
      const rss = /^tideway_process_resident_memory_bytes\{[^}]*\} (\d+)/m.exec(text);
      if (rss) maxRss = Math.max(maxRss, Number(rss[1]));
    };
    const sampler = setInterval(() => void sample(), 250);

    const keys = new Set<string>();
    try {
      await db.query(`INSERT INTO ${table} SELECT g, repeat(md5(g::text), 5) FROM generate_series(1, ${ROWS}) g`);
      await db.end();
      await readTopic(
        `${table}.changes`,
        (all) => {
          for (let i = keys.size; i < all.length; i++) keys.add(all[i].key!.toString());
          return keys.size >= ROWS;
        },
        400_000,
      );
    } finally {
      clearInterval(sampler);
    }
    await sample();
    console.log(`large-transaction: peak RSS ${(maxRss / 1048576).toFixed(0)} MiB`);
    const pauses = /^tideway_cdc_read_pauses_total\{[^}]*\} (\d+)/m.exec(await cdc.metrics());

    expect(keys.size).toBe(ROWS);
    expect(cdc.child.exitCode).toBeNull(); // never ran out of heap
    expect(Number(pauses?.[1] ?? 0)).toBeGreaterThan(0); // backpressure actually engaged
    expect(maxRss).toBeGreaterThan(0);
    expect(maxRss).toBeLessThan(256 * 1024 * 1024);
    expect(await cdc.stop()).toBe(0);
    cdc = undefined;
  });
});
