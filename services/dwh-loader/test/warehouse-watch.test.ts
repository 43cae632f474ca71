import { WarehouseWatch } from '../src/warehouse-watch';

function watch(ping: () => Promise<void>) {
  const ready: boolean[] = [];
  const logs: string[] = [];
  const w = new WarehouseWatch({
    ping,
    setReady: (r) => ready.push(r),
    logger: { warn: (_o: unknown, m?: string) => logs.push(`warn ${m}`), info: (m: unknown) => logs.push(`info ${String(m)}`) } as never,
  });
  return { w, ready, logs };
}

describe('WarehouseWatch', () => {
  it('follows the ping: not ready while it fails, ready again once it answers; logs each change once', async () => {
    let failing = false;
    const { w, ready, logs } = watch(async () => {
      if (failing) throw new Error('connect ECONNREFUSED');
    });
    await w.tick();
    failing = true;
    await w.tick();
    await w.tick();
    failing = false;
    await w.tick();
    expect(ready).toEqual([true, false, false, true]);
    expect(logs).toEqual(['warn warehouse not reachable; not ready until it is', 'info warehouse reachable again']);
  });

  it('does not start a ping while the previous one is still out', async () => {
    let calls = 0;
    let release!: () => void;
    const { w, ready } = watch(() => {
      calls++;
      return new Promise<void>((r) => (release = r));
    });
    const first = w.tick();
    await w.tick();
    expect(calls).toBe(1);
    release();
    await first;
    expect(ready).toEqual([true]);
  });
});
