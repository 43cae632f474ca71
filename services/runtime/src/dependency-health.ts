/**
 * The state of each dependency (kafka, postgres, aws): down while any operation against it is
 * failing and being retried, up again once every one of them succeeded. Logged once per change
 * of state (not per attempt), shown in /readyz (check `dependency:<name>`, with the reason) and
 * in `tideway_dependency_up` / `tideway_dependency_retries_total`.
 */
import { Counter, Gauge, type Registry } from 'prom-client';
import { retryWithBackoff, type BackoffPolicy } from './backoff';
import { canRetry, errorMessage } from './errors';
import type { Readiness } from './http-server';
import type { Logger } from './logger';

export type DependencyName = 'kafka' | 'postgres' | 'aws';

export interface DependencyRetryOptions {
  signal?: AbortSignal;
  policy?: BackoffPolicy;
}

const DEFAULT_POLICY: BackoffPolicy = { initialMs: 200, maxMs: 10_000, multiplier: 2 };

export class DependencyHealth {
  private readonly failing = new Map<DependencyName, Map<string, string>>();
  private readonly up: Gauge<'dependency'>;
  private readonly retries: Counter<'dependency' | 'operation'>;

  constructor(
    registry: Registry,
    private readonly readiness: Readiness,
    private readonly logger: Logger,
  ) {
    this.up = new Gauge({
      name: 'tideway_dependency_up',
      help: '1 while the dependency answers, 0 while an operation against it is being retried.',
      labelNames: ['dependency'],
      registers: [registry],
    });
    this.retries = new Counter({
      name: 'tideway_dependency_retries_total',
      help: 'Operations against a dependency retried after a transient failure.',
      labelNames: ['dependency', 'operation'],
      registers: [registry],
    });
  }

  /** `operation` failed transiently and will be retried. Logs when the dependency goes down. */
  down(dependency: DependencyName, operation: string, err: unknown): void {
    const reason = errorMessage(err);
    this.retries.inc({ dependency, operation });
    let ops = this.failing.get(dependency);
    if (!ops) this.failing.set(dependency, (ops = new Map()));
    const wasUp = ops.size === 0;
    ops.set(operation, reason);
    this.readiness.problem(`dependency:${dependency}`, `${operation}: ${reason}`);
    if (!wasUp) return;
    this.up.set({ dependency }, 0);
    this.logger.warn({ dependency, operation, err: reason }, `${dependency} unavailable: ${reason}; retrying`);
  }

  /** `operation` succeeded. Logs when it was the last failing one. */
  ok(dependency: DependencyName, operation: string): void {
    this.settle(dependency, operation, true);
  }

  /** `operation` is no longer attempted (given up, or its caller stops): it no longer counts. */
  forget(dependency: DependencyName, operation: string): void {
    this.settle(dependency, operation, false);
  }

  private settle(dependency: DependencyName, operation: string, succeeded: boolean): void {
    const ops = this.failing.get(dependency);
    const wasFailing = ops?.delete(operation) ?? false;
    const first = ops?.entries().next().value;
    if (first) {
      this.readiness.problem(`dependency:${dependency}`, `${first[0]}: ${first[1]}`);
      return;
    }
    if (succeeded || wasFailing) this.up.set({ dependency }, 1);
    if (!wasFailing) return;
    this.readiness.problem(`dependency:${dependency}`, undefined);
    if (succeeded) this.logger.info({ dependency }, `${dependency} available again`);
  }

  /**
   * Runs `fn` until it succeeds, retrying with backoff while its errors pass `canRetry`; an error
   * that must stop (or the signal aborting) is rethrown.
   */
  async retry<T>(dependency: DependencyName, operation: string, fn: () => Promise<T>, opts: DependencyRetryOptions = {}): Promise<T> {
    let out: T;
    try {
      out = await retryWithBackoff(fn, {
        signal: opts.signal,
        policy: opts.policy ?? DEFAULT_POLICY,
        shouldRetry: (err) => canRetry(err),
        onRetry: (err) => this.down(dependency, operation, err),
      });
    } catch (err) {
      this.forget(dependency, operation);
      throw err;
    }
    this.ok(dependency, operation);
    return out;
  }
}
