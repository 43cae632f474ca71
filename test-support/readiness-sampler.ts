/**
 * Samples `/readyz` of running services all along a test, so that a test can ask afterwards
 * whether a service reported not-ready while a dependency was down — without making a single
 * poll's timing decide anything (whether it is ready again is for `TidewayProcess.waitReady`).
 *
 *   const sampler = new ReadinessSampler({ cdc, 'dwh-loader': loader });
 *   ...; sampler.notReadyAt('cdc', killedAt)   // its first not-ready answer after the kill
 *   await sampler.stop();
 */
import type { TidewayProcess } from './tideway-process';
import { waitFor } from './wait';

export interface ReadySample {
  at: number;
  ready: boolean;
  /** The named checks of /readyz (e.g. `kafka`, `replication`, `warehouse`); empty when it did not answer. */
  checks: Record<string, boolean>;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export class ReadinessSampler {
  readonly samples = new Map<string, ReadySample[]>();
  private sampling = true;
  private readonly loops: Array<Promise<void>>;

  constructor(services: Record<string, TidewayProcess>, everyMs = 200) {
    this.loops = Object.entries(services).map(async ([name, proc]) => {
      const list: ReadySample[] = [];
      this.samples.set(name, list);
      while (this.sampling) {
        try {
          const res = await fetch(`${proc.url}/readyz`, { signal: AbortSignal.timeout(5000) });
          const body = (await res.json()) as { checks?: Record<string, boolean> };
          list.push({ at: Date.now(), ready: res.status === 200, checks: body.checks ?? {} });
        } catch {
          list.push({ at: Date.now(), ready: false, checks: {} });
        }
        await sleep(everyMs);
      }
    });
  }

  /** When `service` first answered not-ready after `since` (a sample that did not answer does not count). */
  notReadyAt(service: string, since: number): ReadySample | undefined {
    return this.samples.get(service)?.find((s) => s.at >= since && !s.ready && Object.keys(s.checks).length > 0);
  }

  /** The distinct check sets seen after `since`, for assertion messages. */
  seen(service: string, since: number): string[] {
    return [...new Set((this.samples.get(service) ?? []).filter((s) => s.at >= since).map((s) => JSON.stringify({ ready: s.ready, ...s.checks })))];
  }

  /**
   * Waits (generously) until every service answered not-ready after `since`, then says which did
   * and, for the others, what they answered instead: `{ notReady: { cdc: true, ... }, seen: { cdc: [] } }`.
   */
  async outageNoticed(since: number, timeoutMs = 90_000): Promise<{ notReady: Record<string, boolean>; seen: Record<string, string[]> }> {
    const names = [...this.samples.keys()];
    await waitFor(() => names.every((n) => this.notReadyAt(n, since)), { timeoutMs }).catch(() => undefined);
    const notReady = Object.fromEntries(names.map((n) => [n, this.notReadyAt(n, since) !== undefined]));
    return { notReady, seen: Object.fromEntries(names.map((n) => [n, notReady[n] ? [] : this.seen(n, since)])) };
  }

  async stop(): Promise<void> {
    this.sampling = false;
    await Promise.all(this.loops);
  }
}

/** Waits for each service to be ready again, in turn; returns the ms after `since` each one was seen ready (for the log). */
export async function readyAgain(services: Record<string, TidewayProcess>, since: number, timeoutMs = 180_000): Promise<Record<string, number>> {
  const ms: Record<string, number> = {};
  for (const [n, p] of Object.entries(services)) {
    await p.waitReady(timeoutMs);
    ms[n] = Date.now() - since;
  }
  return ms;
}
