/**
 * Where stage 1 (decode, filters, predicate rules, projections) runs. It is most of the
 * service's CPU, so by default it runs on worker threads (ALERTING_EVALUATION_THREADS), beside
 * the main thread, which fetches, keeps windows and commits transactions: the two overlap and
 * use more than one core. ALERTING_EVALUATION_THREADS=0 evaluates on the main thread.
 *
 * Each thread compiles the rules from the same rules text (compiled CEL cannot be sent across
 * threads) and keeps its own copy of the lookup tables, following the changes the main thread
 * reads. A thread that dies fails the batches it held (their partitions start over from their
 * last commit) and is replaced.
 *
 * Results of one partition's batches may come back in any order; the pipeline applies them in
 * the order it sent them.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { errorMessage, type Logger } from '@tideway/runtime';
import type { LookupTables, TableChange } from '../io/table-store';
import type { RuleSet } from '../rules/rule-file';
import { evaluateBatch, type BatchEvaluation } from './batch-evaluation';
import type { EvaluatedMessage, RuleIndex } from './input-evaluator';

export interface InputEvaluation {
  evaluate(messages: EvaluatedMessage[], repartitionPartitions: number): Promise<BatchEvaluation>;
  setRules(index: RuleIndex): void;
  close(): Promise<void>;
}

/** Stage 1 on the calling thread. */
export class InlineEvaluation implements InputEvaluation {
  constructor(
    private index: RuleIndex,
    private readonly tables: LookupTables,
    private readonly alertsTopic: string,
  ) {}

  async evaluate(messages: EvaluatedMessage[], repartitionPartitions: number): Promise<BatchEvaluation> {
    return evaluateBatch(this.index, messages, (t, k) => this.tables.get(t, k), repartitionPartitions, this.alertsTopic);
  }

  setRules(index: RuleIndex): void {
    this.index = index;
  }

  async close(): Promise<void> {}
}

/** What an evaluation thread is started with (workerData). */
export interface EvaluationThreadData {
  rules: RuleSet['source'];
  alertsTopic: string;
  tables: TableChange[];
}

/** Messages to an evaluation thread. A batch's values travel as one transferred buffer. */
export type ToEvaluationThread =
  | { type: 'rules'; rules: RuleSet['source'] }
  | { type: 'tables'; changes: TableChange[] }
  | {
      type: 'evaluate';
      id: number;
      topic: string;
      partition: number;
      repartitionPartitions: number;
      offsets: string[];
      timestamps: Float64Array;
      lengths: Int32Array;
      data: ArrayBuffer;
    };

export type FromEvaluationThread = { type: 'result'; id: number; result: BatchEvaluation } | { type: 'failed'; id: number; error: string };

export const WORKER_FILE = join(__dirname, 'evaluation-worker.js');

/** A thread's garbage is short-lived batch data: 8 MiB of young generation cost ~20 MiB less RSS than the default, at the same throughput (docs/benchmarks.md). */
const THREAD_YOUNG_GENERATION_MB = 8;

interface Pending {
  resolve(r: BatchEvaluation): void;
  reject(e: Error): void;
}

class EvaluationThread {
  readonly pending = new Map<number, Pending>();
  constructor(readonly worker: Worker) {}
}

export interface EvaluationThreadsOptions {
  count: number;
  ruleSet: RuleSet;
  tables: LookupTables;
  alertsTopic: string;
  logger: Logger;
  /** Called when a thread died and was replaced (a metric). */
  onThreadDied?: () => void;
  /** The thread script. @default the compiled evaluation-worker.js beside this module */
  workerFile?: string;
}

export class EvaluationThreads implements InputEvaluation {
  private readonly threads: EvaluationThread[] = [];
  private rules: RuleSet['source'];
  /** Table changes not yet sent: they reach every thread before the next batch. */
  private tableChanges: TableChange[] = [];
  private readonly stopFollowing: () => void;
  private nextId = 1;
  private closed = false;

  private readonly workerFile: string;

  constructor(private readonly opts: EvaluationThreadsOptions) {
    this.workerFile = opts.workerFile ?? WORKER_FILE;
    if (!existsSync(this.workerFile))
      throw new Error(`evaluation thread script ${this.workerFile} is missing (run the build, or set ALERTING_EVALUATION_THREADS=0)`);
    this.rules = opts.ruleSet.source;
    this.stopFollowing = opts.tables.follow((c) => {
      // Sent with the next batch, or soon when no batch comes (so they never pile up here).
      if (this.tableChanges.push(c) === 1) setImmediate(() => this.sendTableChanges());
    });
    const snapshot = opts.tables.snapshot();
    for (let i = 0; i < opts.count; i++) this.threads.push(this.spawn(i, snapshot));
  }

  evaluate(messages: EvaluatedMessage[], repartitionPartitions: number): Promise<BatchEvaluation> {
    if (this.closed) return Promise.reject(new Error('evaluation threads are closed'));
    this.sendTableChanges();
    let thread = this.threads[0];
    for (const t of this.threads) if (t.pending.size < thread.pending.size) thread = t;
    const n = messages.length;
    const lengths = new Int32Array(n);
    const timestamps = new Float64Array(n);
    const offsets = new Array<string>(n);
    let total = 0;
    for (let i = 0; i < n; i++) total += messages[i].value?.length ?? 0;
    // Not from Buffer's shared pool: the buffer is transferred (detached here).
    const data = Buffer.allocUnsafeSlow(total);
    let at = 0;
    for (let i = 0; i < n; i++) {
      const m = messages[i];
      offsets[i] = m.offset;
      timestamps[i] = m.timestamp;
      if (m.value === null) lengths[i] = -1;
      else {
        m.value.copy(data, at);
        lengths[i] = m.value.length;
        at += m.value.length;
      }
    }
    const id = this.nextId++;
    const { topic, partition } = messages[0];
    return new Promise<BatchEvaluation>((resolve, reject) => {
      thread.pending.set(id, { resolve, reject });
      const msg: ToEvaluationThread = { type: 'evaluate', id, topic, partition, repartitionPartitions, offsets, timestamps, lengths, data: data.buffer };
      thread.worker.postMessage(msg, [data.buffer, lengths.buffer, timestamps.buffer]);
    });
  }

  setRules(index: RuleIndex): void {
    this.rules = index.ruleSet.source;
    for (const t of this.threads) t.worker.postMessage({ type: 'rules', rules: this.rules } satisfies ToEvaluationThread);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.stopFollowing();
    const threads = this.threads.splice(0);
    for (const t of threads) this.failAll(t, new Error('evaluation threads are closed'));
    await Promise.all(threads.map((t) => t.worker.terminate()));
  }

  private sendTableChanges() {
    if (this.tableChanges.length === 0 || this.closed) return;
    const changes = this.tableChanges;
    this.tableChanges = [];
    for (const t of this.threads) t.worker.postMessage({ type: 'tables', changes } satisfies ToEvaluationThread);
  }

  private spawn(slot: number, tables: TableChange[]): EvaluationThread {
    const workerData: EvaluationThreadData = { rules: this.rules, alertsTopic: this.opts.alertsTopic, tables };
    const thread = new EvaluationThread(new Worker(this.workerFile, { workerData, resourceLimits: { maxYoungGenerationSizeMb: THREAD_YOUNG_GENERATION_MB } }));
    thread.worker.on('message', (m: FromEvaluationThread) => {
      const p = thread.pending.get(m.id);
      if (!p) return;
      thread.pending.delete(m.id);
      if (m.type === 'result') p.resolve(m.result);
      else p.reject(new Error(`evaluation failed: ${m.error}`));
    });
    const replace = (why: string) => {
      if (this.closed || this.threads[slot] !== thread) return;
      this.opts.logger.error({ thread: slot, why }, 'evaluation thread died; its batches start over and a new thread replaces it');
      this.opts.onThreadDied?.();
      this.failAll(thread, new Error(`evaluation thread died: ${why}`));
      // The snapshot already holds the changes not yet sent; applying them again with the next batch changes nothing.
      this.threads[slot] = this.spawn(slot, this.opts.tables.snapshot());
    };
    thread.worker.on('error', (err) => replace(errorMessage(err)));
    thread.worker.on('exit', (code) => replace(`exit code ${code}`));
    return thread;
  }

  private failAll(thread: EvaluationThread, err: Error) {
    for (const p of thread.pending.values()) p.reject(err);
    thread.pending.clear();
  }
}
