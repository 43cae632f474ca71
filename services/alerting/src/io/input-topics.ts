/**
 * Input and table topics must exist before the consumer group subscribes: kafkajs would otherwise
 * sit in the group with nothing assigned and no error. The service waits for them instead, saying
 * which are missing (as Vector's Kafka source waits), so a rules file that names a topic before its
 * producer created it is not fatal.
 */
import { sleep, type Admin, type Logger } from '@tideway/runtime';

/** Topics of `wanted` that `existing` does not have. Pure. */
export function missingTopics(wanted: string[], existing: string[]): string[] {
  const have = new Set(existing);
  return [...new Set(wanted)].filter((t) => !have.has(t)).sort();
}

/** Resolves once every topic exists (or `signal` aborts); logs the missing ones at once and then every `logEveryMs`. */
export async function waitForTopics(admin: Admin, topics: string[], logger: Logger, signal: AbortSignal, pollMs = 2000, logEveryMs = 30_000): Promise<void> {
  let lastLog = -Infinity;
  for (;;) {
    const missing = missingTopics(topics, await admin.listTopics());
    if (missing.length === 0 || signal.aborted) return;
    if (Date.now() - lastLog >= logEveryMs) {
      lastLog = Date.now();
      logger.error({ missing }, `input topic(s) ${missing.join(', ')} do not exist: waiting for them (create them, or fix the topics in the rules file)`);
    }
    await sleep(pollMs, signal);
  }
}
