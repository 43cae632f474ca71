/** Consecutive groups of items whose sizes add up to at most `maxBytes`, in order; a single larger item forms a group alone. Pure. */
export function groupBySize<T>(items: T[], sizeOf: (item: T) => number, maxBytes: number): T[][] {
  const out: T[][] = [];
  let cur: T[] = [];
  let size = 0;
  for (const item of items) {
    const n = sizeOf(item);
    if (cur.length > 0 && size + n > maxBytes) {
      out.push(cur);
      cur = [];
      size = 0;
    }
    cur.push(item);
    size += n;
  }
  if (cur.length > 0) out.push(cur);
  return out;
}
