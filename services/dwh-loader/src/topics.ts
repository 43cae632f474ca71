/** The DWH_TOPICS selector: a list of topic names, or a regular expression between slashes. */

export type TopicSelector = { kind: 'names'; names: string[] } | { kind: 'regex'; regex: RegExp };

const TOPIC_NAME = /^[A-Za-z0-9._-]{1,249}$/;

/** Throws an Error with a short problem description (the caller names the setting). */
export function parseTopicSelector(text: string): TopicSelector {
  const t = text.trim();
  if (t.length >= 2 && t.startsWith('/') && t.endsWith('/')) {
    try {
      return { kind: 'regex', regex: new RegExp(t.slice(1, -1)) };
    } catch (err) {
      throw new Error(`is not a valid regular expression: ${(err as Error).message}`, { cause: err });
    }
  }
  const names = t
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
  if (names.length === 0) throw new Error('names no topic');
  for (const n of names) if (!TOPIC_NAME.test(n)) throw new Error(`"${n}" is not a valid topic name (or write a regex as /.../)`);
  return { kind: 'names', names };
}

/** Topics to subscribe to; a regex never matches dead-letter topics. */
export function selectTopics(selector: TopicSelector, existing: string[], dlqSuffix: string): string[] {
  if (selector.kind === 'names') return selector.names;
  return existing.filter((t) => selector.regex.test(t) && !t.endsWith(dlqSuffix) && !t.startsWith('__')).sort();
}
