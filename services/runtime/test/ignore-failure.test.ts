import { ignoreFailure } from '../src/ignore-failure';

function recordingLogger() {
  const lines: Array<{ level: string; obj: Record<string, unknown>; msg: string }> = [];
  const at = (level: string) => (obj: Record<string, unknown>, msg: string) => void lines.push({ level, obj, msg });
  return { lines, logger: { debug: at('debug'), warn: at('warn') } };
}

describe('ignoreFailure', () => {
  it('resolves the promise it guards to undefined and logs the failure at debug by default', async () => {
    const { lines, logger } = recordingLogger();
    const result = await Promise.reject(new Error('socket closed')).catch(ignoreFailure(logger, 'producer disconnect', { topic: 't' }));
    expect(result).toBeUndefined();
    expect(lines).toEqual([{ level: 'debug', obj: { topic: 't', err: 'socket closed' }, msg: 'producer disconnect failed; ignored' }]);
  });

  it('logs at warn when asked, with a non-Error reason', async () => {
    const { lines, logger } = recordingLogger();
    await Promise.reject('boom').catch(ignoreFailure(logger, 'transaction abort', {}, 'warn'));
    expect(lines.map((l) => [l.level, l.obj.err, l.msg])).toEqual([['warn', 'boom', 'transaction abort failed; ignored']]);
  });

  it('logs nothing when the guarded operation succeeds', async () => {
    const { lines, logger } = recordingLogger();
    expect(await Promise.resolve(3).catch(ignoreFailure(logger, 'x'))).toBe(3);
    expect(lines).toEqual([]);
  });
});
