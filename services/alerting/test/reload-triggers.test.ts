import { ReloadTriggers } from '../src/reload-triggers';

describe('ReloadTriggers', () => {
  it('holds a SIGHUP that arrives during start-up and serves it once the service has started', () => {
    const before = process.listenerCount('SIGHUP');
    const triggers = new ReloadTriggers({ rulesFile: '/nonexistent/rules.yaml', watch: false, watchIntervalMs: 1000 });
    try {
      process.emit('SIGHUP', 'SIGHUP');
      const reloads: string[] = [];
      triggers.serve((why) => reloads.push(why));
      expect(reloads).toEqual(['SIGHUP']);
      process.emit('SIGHUP', 'SIGHUP');
      expect(reloads).toEqual(['SIGHUP', 'SIGHUP']);
    } finally {
      triggers.stop();
    }
    expect(process.listenerCount('SIGHUP')).toBe(before);
  });
});
