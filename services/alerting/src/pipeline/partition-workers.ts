/**
 * The partition workers of this instance by partition (a worker is a promise while it fences
 * and restores), and what an assignment changes among them.
 */
import type { TopicPartition } from '@tideway/runtime';
import { workerId, type PartitionWorker } from './partition-worker';

export interface AssignmentChange {
  /** Ids of workers whose partition is no longer assigned. */
  revoked: string[];
  /** Newly assigned repartition partitions (their state is restored together). */
  freshState: number[];
  freshInput: TopicPartition[];
}

export function assignmentChange(owned: Iterable<string>, assigned: TopicPartition[], repartitionTopic: string): AssignmentChange {
  const ownedIds = new Set(owned);
  const wanted = new Set(assigned.map((a) => workerId(a.topic, a.partition)));
  const fresh = assigned.filter((a) => !ownedIds.has(workerId(a.topic, a.partition)));
  return {
    revoked: [...ownedIds].filter((id) => !wanted.has(id)),
    freshState: fresh.filter((a) => a.topic === repartitionTopic).map((a) => a.partition),
    freshInput: fresh.filter((a) => a.topic !== repartitionTopic),
  };
}

export class PartitionWorkers {
  private readonly byId = new Map<string, Promise<PartitionWorker>>();

  get(id: string): Promise<PartitionWorker> | undefined {
    return this.byId.get(id);
  }

  ids(): string[] {
    return [...this.byId.keys()];
  }

  set(id: string, worker: Promise<PartitionWorker>): void {
    // A worker that fails to start is reported to the batch that awaits it (which forgets it).
    worker.catch(() => undefined);
    this.byId.set(id, worker);
  }

  /** Removes and returns the entry. */
  take(id: string): Promise<PartitionWorker> | undefined {
    const w = this.byId.get(id);
    this.byId.delete(id);
    return w;
  }

  /** Removes every entry and returns them. */
  takeAll(): Array<Promise<PartitionWorker>> {
    const all = [...this.byId.values()];
    this.byId.clear();
    return all;
  }

  /** Forgets the partition's entry if it still holds this worker (a newer one may have replaced it). */
  async forget(worker: PartitionWorker): Promise<void> {
    const current = this.byId.get(worker.id);
    if (current && (await settled(current)) === worker) this.byId.delete(worker.id);
  }

  /** The workers that started (a failed start is reported where it is awaited). */
  async started(): Promise<PartitionWorker[]> {
    const all = await Promise.all([...this.byId.values()].map(settled));
    return all.filter((w): w is PartitionWorker => w !== undefined);
  }
}

/** The worker, or undefined if it failed to start (that failure is reported to the batch that awaited it). */
export function settled(worker: Promise<PartitionWorker>): Promise<PartitionWorker | undefined> {
  return worker.catch(() => undefined);
}
