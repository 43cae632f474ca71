/**
 * OpenSearch for tests: the stack's node (OPENSEARCH_URL) or a private one, over plain HTTP
 * with Node's fetch. Every index a test makes carries a uniqueName() prefix.
 */
export function openSearchUrl(): string {
  return process.env.OPENSEARCH_URL ?? 'http://127.0.0.1:9200';
}

/** A JSON request; a non-2xx answer throws with the body. */
export async function osRequest<T = Record<string, unknown>>(method: string, path: string, body?: unknown, base = openSearchUrl()): Promise<T> {
  const res = await fetch(`${base}${path}`, {
    method,
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
    signal: AbortSignal.timeout(30_000),
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`${method} ${path}: HTTP ${res.status} ${text.slice(0, 500)}`);
  return JSON.parse(text) as T;
}

export interface Hit<T> {
  _index: string;
  _id: string;
  _source: T;
}

/** Every document of the indices matching `pattern` (after a refresh), read with search_after. */
export async function allDocuments<T = Record<string, unknown>>(pattern: string, base = openSearchUrl()): Promise<Array<Hit<T>>> {
  await osRequest('POST', `/${pattern}/_refresh?allow_no_indices=true&expand_wildcards=open`, undefined, base);
  const hits: Array<Hit<T>> = [];
  let after: unknown[] | undefined;
  for (;;) {
    const page = await osRequest<{ hits: { hits: Array<Hit<T> & { sort: unknown[] }> } }>(
      'POST',
      `/${pattern}/_search?allow_no_indices=true`,
      { size: 5000, sort: [{ _index: 'asc' }, { _id: 'asc' }], query: { match_all: {} }, ...(after ? { search_after: after } : {}) },
      base,
    );
    hits.push(...page.hits.hits);
    if (page.hits.hits.length < 5000) return hits;
    after = page.hits.hits[page.hits.hits.length - 1].sort;
  }
}

/** `_count` over the indices matching `pattern` (after a refresh). */
export async function countDocuments(pattern: string, query?: unknown, base = openSearchUrl()): Promise<number> {
  await osRequest('POST', `/${pattern}/_refresh?allow_no_indices=true`, undefined, base);
  const r = await osRequest<{ count: number }>('POST', `/${pattern}/_count?allow_no_indices=true`, query ? { query } : undefined, base);
  return r.count;
}

/** Deletes the indices whose names start with `prefix` (wildcard deletes are allowed by default). */
export async function deleteIndices(prefix: string, base = openSearchUrl()): Promise<void> {
  await osRequest('DELETE', `/${prefix}*?allow_no_indices=true&expand_wildcards=all`, undefined, base).catch(() => undefined);
}
