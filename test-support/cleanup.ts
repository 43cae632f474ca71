/**
 * What a test leaves behind is undone after it, last first: `const defer = afterEachCleanup();`
 * at the top of a test file, then `defer(() => proc.kill())`, `defer(() => deleteTopics(...))`.
 * A failing cleanup never fails the test.
 */
export type Defer = (cleanup: () => Promise<unknown> | unknown) => void;

export function afterEachCleanup(): Defer {
  const pending: Array<() => Promise<unknown> | unknown> = [];
  afterEach(async () => {
    for (const c of pending.splice(0).reverse())
      await Promise.resolve()
        .then(c)
        .catch(() => undefined);
  });
  return (cleanup) => {
    pending.push(cleanup);
  };
}
