/** Dotted paths into parsed JSON (`after.policy_id`, `device.location.city`). */

export function getPath(value: unknown, path: string): unknown {
  let cur: unknown = value;
  for (const part of path.split('.')) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<string, unknown>)[part];
  }
  return cur;
}

/** True when `path` is dot-separated identifiers (no empty parts). */
export function isValidPath(path: string): boolean {
  return /^[A-Za-z_$][\w$-]*(\.[A-Za-z_$0-9][\w$-]*)*$/.test(path);
}
