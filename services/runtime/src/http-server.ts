/**
 * One HTTP server per service: /metrics (Prometheus), /healthz (the process is alive and its
 * event loop answers), /readyz (every registered dependency check currently passes).
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';

export type ReadinessCheck = () => boolean | Promise<boolean>;

export class Readiness {
  private readonly checks = new Map<string, ReadinessCheck>();
  private readonly problems = new Map<string, string>();

  /** Registers (or replaces) a named check, e.g. `kafka`, `postgres`, `route:iot-to-s3`. */
  set(name: string, check: ReadinessCheck): void {
    this.checks.set(name, check);
  }

  /** A simple flag-backed check; returns its setter. */
  flag(name: string, initial = false): (ready: boolean) => void {
    let ready = initial;
    this.set(name, () => ready);
    return (value) => {
      ready = value;
    };
  }

  /** A named problem makes /readyz fail with its reason until it is cleared (`reason` undefined). */
  problem(name: string, reason: string | undefined): void {
    if (reason === undefined) this.problems.delete(name);
    else this.problems.set(name, reason);
  }

  async evaluate(): Promise<{ ready: boolean; checks: Record<string, boolean>; reasons?: Record<string, string> }> {
    const checks: Record<string, boolean> = {};
    for (const [name, check] of this.checks) {
      try {
        checks[name] = Boolean(await check());
      } catch {
        checks[name] = false;
      }
    }
    if (this.problems.size === 0) return { ready: Object.values(checks).every(Boolean), checks };
    for (const name of this.problems.keys()) checks[name] = false;
    return { ready: false, checks, reasons: Object.fromEntries(this.problems) };
  }
}

export class ServiceHttpServer {
  private server?: Server;

  constructor(
    private readonly registry: Registry,
    private readonly readiness: Readiness,
  ) {}

  async listen(port: number, host: string): Promise<number> {
    const server = createServer((req, res) => {
      void this.handle(req.url ?? '/').then(
        ({ status, type, body }) => {
          res.writeHead(status, { 'content-type': type });
          res.end(body);
        },
        () => {
          res.writeHead(500);
          res.end();
        },
      );
    });
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => resolve());
    });
    return (server.address() as AddressInfo).port;
  }

  private async handle(url: string): Promise<{ status: number; type: string; body: string }> {
    const path = url.split('?')[0];
    if (path === '/metrics') return { status: 200, type: this.registry.contentType, body: await this.registry.metrics() };
    if (path === '/healthz') return { status: 200, type: 'application/json', body: '{"status":"ok"}' };
    if (path === '/readyz') {
      const r = await this.readiness.evaluate();
      return { status: r.ready ? 200 : 503, type: 'application/json', body: JSON.stringify(r) };
    }
    return { status: 404, type: 'text/plain', body: 'not found\n' };
  }

  async close(): Promise<void> {
    const server = this.server;
    if (!server) return;
    await new Promise<void>((resolve) => server.close(() => resolve()));
    server.closeAllConnections?.();
  }
}
