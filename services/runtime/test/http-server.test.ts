import { Registry } from 'prom-client';
import { Readiness, ServiceHttpServer } from '../src/http-server';

describe('ServiceHttpServer', () => {
  const readiness = new Readiness();
  const registry = new Registry();
  const server = new ServiceHttpServer(registry, readiness);
  let base = '';

  beforeAll(async () => {
    const port = await server.listen(0, '127.0.0.1');
    base = `http://127.0.0.1:${port}`;
  });
  afterAll(() => server.close());

  it('answers /healthz while alive', async () => {
    expect((await fetch(`${base}/healthz`)).status).toBe(200);
  });

  it('is ready only when every check passes, and says which one fails', async () => {
    const setKafka = readiness.flag('kafka');
    readiness.set('postgres', () => true);
    let res = await fetch(`${base}/readyz`);
    expect(res.status).toBe(503);
    expect(await res.json()).toEqual({ ready: false, checks: { kafka: false, postgres: true } });
    setKafka(true);
    res = await fetch(`${base}/readyz`);
    expect(res.status).toBe(200);
  });

  it('treats a throwing check as not ready', async () => {
    readiness.set('broken', () => {
      throw new Error('boom');
    });
    expect((await fetch(`${base}/readyz`)).status).toBe(503);
    readiness.set('broken', () => true);
  });

  it('serves Prometheus text on /metrics', async () => {
    const res = await fetch(`${base}/metrics`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('text/plain');
  });
});
