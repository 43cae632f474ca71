/** Which topics are streams, and under what name. Pure. */

/**
 * The stream names among `topics`: those with the prefix, without it, sorted; internal topics
 * (a name starting with `_`, with or without the prefix) and dead-letter topics (`.dlq`) are not streams.
 */
export function streamNamesOf(topics: readonly string[], prefix: string): string[] {
  return topics
    .filter((t) => t.startsWith(prefix) && !t.startsWith('_') && !t.endsWith('.dlq'))
    .map((t) => t.slice(prefix.length))
    .filter((s) => s !== '' && !s.startsWith('_'))
    .sort();
}
