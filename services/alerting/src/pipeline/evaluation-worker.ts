/**
 * An evaluation thread (see evaluation-threads.ts): compiles the rules, keeps a copy of the
 * lookup tables, and answers each batch with `evaluateBatch`'s result.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { errorMessage } from '@tideway/runtime';
import { TableRows } from '../io/table-store';
import { parseRuleFile, type RuleSet } from '../rules/rule-file';
import { evaluateBatch } from './batch-evaluation';
import type { EvaluationThreadData, FromEvaluationThread, ToEvaluationThread } from './evaluation-threads';
import { RuleIndex, type EvaluatedMessage } from './input-evaluator';

const data = workerData as EvaluationThreadData;
const compile = (rules: RuleSet['source']) => new RuleIndex(parseRuleFile(rules.text, rules.file));
let index = compile(data.rules);
const tables = new TableRows();
for (const c of data.tables) tables.apply(c);
const lookup = (table: string, key: string) => tables.get(table, key);
const port = parentPort!;

port.on('message', (m: ToEvaluationThread) => {
  if (m.type === 'rules') index = compile(m.rules);
  else if (m.type === 'tables') for (const c of m.changes) tables.apply(c);
  else {
    let reply: FromEvaluationThread;
    try {
      const messages: EvaluatedMessage[] = new Array(m.offsets.length);
      let at = 0;
      for (let i = 0; i < messages.length; i++) {
        const len = m.lengths[i];
        messages[i] = {
          topic: m.topic,
          partition: m.partition,
          offset: m.offsets[i],
          timestamp: m.timestamps[i],
          value: len < 0 ? null : Buffer.from(m.data, at, len),
        };
        if (len > 0) at += len;
      }
      reply = { type: 'result', id: m.id, result: evaluateBatch(index, messages, lookup, m.repartitionPartitions, data.alertsTopic) };
    } catch (err) {
      reply = { type: 'failed', id: m.id, error: errorMessage(err) };
    }
    port.postMessage(reply);
  }
});
