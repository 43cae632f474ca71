import { EventEmitter } from 'node:events';
import type { Socket } from 'node:net';
import { Http1Connections } from '../../src/http/http1-connections';

class FakeSocket extends EventEmitter {
  destroyed = false;
  destroy() {
    this.destroyed = true;
    this.emit('close');
  }
}
const socket = () => new FakeSocket() as unknown as Socket & FakeSocket;

describe('Http1Connections', () => {
  it('closes idle connections when stopping, busy ones once their last response is sent', () => {
    const c = new Http1Connections();
    const idle = socket();
    const busy = socket();
    c.add(idle);
    c.add(busy);
    expect(c.requestStarted(busy)).toBe(true);
    c.stop();
    expect(idle.destroyed).toBe(true);
    expect(busy.destroyed).toBe(false);
    c.requestEnded(busy);
    expect(busy.destroyed).toBe(true);
    expect(c.open).toBe(0);
  });

  it('keeps connections between requests while serving, and tells a request started while stopping to close', () => {
    const c = new Http1Connections();
    const s = socket();
    c.add(s);
    c.requestStarted(s);
    c.requestEnded(s);
    expect(s.destroyed).toBe(false);
    c.requestStarted(s);
    c.stop();
    expect(c.requestStarted(s)).toBe(false);
    c.requestEnded(s);
    expect(s.destroyed).toBe(false);
    c.requestEnded(s);
    expect(s.destroyed).toBe(true);
  });
});
