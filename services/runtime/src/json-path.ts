/** Dotted paths into parsed JSON (`after.policy_id`, `device.location.city`). */

/** Paths come from configuration, so there are few of them: split each once. */
const splitPaths = new Map<string, string[]>();
function partsOf(path: string): string[] {
  let parts = splitPaths.get(path);
  if (!parts) {
    parts = path.split('.');
    if (splitPaths.size < 10_000) splitPaths.set(path, parts);
  }
  return parts;
}

export function getPath(value: unknown, path: string): unknown {
  let cur: unknown = value;
  for (const part of partsOf(path)) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<string, unknown>)[part];
  }
  return cur;
}

/** True when `path` is dot-separated identifiers (no empty parts). */
export function isValidPath(path: string): boolean {
  return /^[A-Za-z_$][\w$-]*(\.[A-Za-z_$0-9][\w$-]*)*$/.test(path);
}
