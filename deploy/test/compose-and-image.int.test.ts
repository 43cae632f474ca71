/**
 * docker-compose.yml and the Dockerfile, checked statically (`npm run test:containers` builds the
 * image and runs the compose file for real, on its own Docker engine): the compose file is loaded by compose-go, the Compose specification's reference loader
 * (schema validation plus reference checks, as `docker compose config` does), and its
 * promises are checked on the normalised model; the Dockerfile is checked statically.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { PROMETHEUS_DIR, REPO_ROOT, TOOL_INSTALL_TIMEOUT_MS, ensureTool, run, tempFile } from './tools';

jest.setTimeout(TOOL_INSTALL_TIMEOUT_MS);

interface ComposeService {
  image?: string;
  build?: unknown;
  command?: string[];
  environment?: Record<string, string>;
  healthcheck?: { test?: string[]; disable?: boolean };
  depends_on?: Record<string, { condition: string }>;
  ports?: { host_ip?: string; target: number; published: string }[];
  volumes?: { type: string; source: string; target: string; read_only?: boolean }[];
  restart?: string;
  read_only?: boolean;
  cap_drop?: string[];
}
interface ComposeModel {
  services: Record<string, ComposeService>;
}

const COMPOSE_FILE = join(REPO_ROOT, 'docker-compose.yml');
const TIDEWAY_SERVICES = ['cdc', 'dwh-loader', 'alerting', 'bridge', 'kinesis-api', 'demo'];
const ONE_SHOT = ['aws-setup'];

let model: ComposeModel;
beforeAll(() => {
  const r = run(ensureTool('compose-validate'), [COMPOSE_FILE]);
  if (r.status !== 0) throw new Error(`compose-validate rejected docker-compose.yml:\n${r.stderr}`);
  model = JSON.parse(r.stdout) as ComposeModel;
});

describe('docker-compose.yml', () => {
  test('is a valid Compose file (compose-go: the specification schema and the references)', () => {
    expect(Object.keys(model.services).length).toBeGreaterThan(10);
  });

  test('the validator does reject a broken file (unknown key, dangling depends_on)', () => {
    const source = readFileSync(COMPOSE_FILE, 'utf8');
    const unknownKey = tempFile('docker-compose.yml', source.replace('  kafka:\n    image:', '  kafka:\n    imagee: x\n    image:'));
    expect(run(ensureTool('compose-validate'), [unknownKey]).stderr).toMatch(/imagee/);
    const dangling = tempFile('docker-compose.yml', source.replace('prometheus: {condition: service_healthy}', 'prometheuz: {condition: service_healthy}'));
    const r = run(ensureTool('compose-validate'), [dangling]);
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/prometheuz/);
  });

  test('has the whole platform: Kafka (official image), PostgreSQL, the AWS emulators, an S3 store, monitoring, every Tideway service and the demo', () => {
    const s = model.services;
    for (const name of ['kafka', 'postgres', 'kinesis', 'moto', 'seaweedfs', 'prometheus', 'grafana', ...TIDEWAY_SERVICES]) expect(s[name]).toBeDefined();
    expect(s.kafka.image).toMatch(/^apache\/kafka:/);
    expect(s.kafka.environment?.KAFKA_PROCESS_ROLES).toBe('broker,controller');
    expect(s.postgres.command).toEqual(expect.arrayContaining(['wal_level=logical']));
    for (const name of TIDEWAY_SERVICES) {
      expect(s[name].image).toBe('tideway:local');
      expect(s[name].build).toBeDefined();
      expect(s[name].command?.[0]).toBe(name);
      expect(s[name].read_only).toBe(true);
      expect(s[name].cap_drop).toEqual(['ALL']);
    }
  });

  test('every long-running service has a healthcheck, and every depends_on waits for health (or a one-shot’s success)', () => {
    for (const [name, svc] of Object.entries(model.services)) {
      if (ONE_SHOT.includes(name)) expect(svc.restart).toBe('no');
      else expect(svc.healthcheck?.test?.length).toBeGreaterThan(0);
      for (const [dep, { condition }] of Object.entries(svc.depends_on ?? {})) {
        expect([name, dep, condition]).toEqual([name, dep, ONE_SHOT.includes(dep) ? 'service_completed_successfully' : 'service_healthy']);
      }
    }
  });

  test('publishes ports on 127.0.0.1 only', () => {
    for (const [name, svc] of Object.entries(model.services)) for (const p of svc.ports ?? []) expect([name, p.host_ip]).toEqual([name, '127.0.0.1']);
  });

  test('no two services publish the same host port (by default)', () => {
    const published = Object.entries(model.services).flatMap(([name, svc]) => (svc.ports ?? []).map((p) => [p.published, name]));
    const owners = new Map<string, string[]>();
    for (const [port, name] of published) owners.set(port, [...(owners.get(port) ?? []), name]);
    expect([...owners].filter(([, names]) => names.length > 1)).toEqual([]);
  });

  test('every host port is a TIDEWAY_*_PORT variable, and the compose end-to-end check moves each one to a free port', () => {
    const source = readFileSync(COMPOSE_FILE, 'utf8');
    const mappings = [...source.matchAll(/"127\.0\.0\.1:([^"]+)"/g)].map((m) => m[1]);
    expect(mappings.length).toBeGreaterThan(10);
    for (const m of mappings) expect(m).toMatch(/^\$\{TIDEWAY_[A-Z0-9_]+_PORT:-\d+\}:\d+$/);
    const e2e = readFileSync(join(REPO_ROOT, 'scripts', 'containers', 'compose-e2e.sh'), 'utf8');
    const moved = /^for v in ([A-Z0-9_ ]+); do$/m.exec(e2e)?.[1].split(' ') ?? [];
    const variables = mappings.map((m) => /TIDEWAY_([A-Z0-9_]+)_PORT/.exec(m)![1]);
    expect(variables.filter((v) => !moved.includes(v))).toEqual([]);
  });

  test('kinesis-api serves the Kinesis API on a published port of its own, unauthenticated on the laptop stack only', () => {
    const api = model.services['kinesis-api'];
    expect(api.environment).toMatchObject({ KINESIS_API_HOST: '0.0.0.0', KINESIS_API_PORT: '4566', KINESIS_API_AUTH: 'none' });
    expect(api.ports).toContainEqual(expect.objectContaining({ host_ip: '127.0.0.1', target: 4566, published: '4566' }));
    expect(api.ports).toContainEqual(expect.objectContaining({ host_ip: '127.0.0.1', target: 9464 }));
    expect(Object.keys(api.depends_on ?? {})).toEqual(['kafka']);
    // The host port is the TIDEWAY_KINESIS_API_PORT variable, like every other published port.
    expect(readFileSync(COMPOSE_FILE, 'utf8')).toContain('"127.0.0.1:${TIDEWAY_KINESIS_API_PORT:-4566}:4566"');
    expect(api.restart).toBe('unless-stopped');
  });

  test('every file it mounts exists in the repository', () => {
    for (const svc of Object.values(model.services)) {
      for (const v of svc.volumes ?? []) if (v.type === 'bind') expect([v.source, existsSync(v.source)]).toEqual([v.source, true]);
    }
  });

  test('Prometheus scrapes every Tideway container on its metrics port, with the job names the rules expect', () => {
    const config = parse(readFileSync(join(PROMETHEUS_DIR, 'prometheus.yml'), 'utf8')) as {
      scrape_configs: { job_name: string; static_configs: { targets: string[] }[] }[];
    };
    const jobs = Object.fromEntries(config.scrape_configs.map((c) => [c.job_name, c.static_configs.flatMap((s) => s.targets)]));
    for (const name of TIDEWAY_SERVICES) {
      expect(jobs[`tideway-${name}`]).toEqual([`${name}:9464`]);
      expect(model.services[name].environment?.METRICS_PORT).toBe('9464');
    }
  });
});

describe('Dockerfile (static checks; npm run test:containers builds and runs it)', () => {
  const dockerfile = readFileSync(join(REPO_ROOT, 'Dockerfile'), 'utf8');

  test('parses with BuildKit’s Dockerfile parser, no lint finding, two stages, each instruction where expected', () => {
    const r = run(ensureTool('dockerfile-check'), [join(REPO_ROOT, 'Dockerfile')]);
    const parsed = JSON.parse(r.stdout) as { stages: { name: string; base: string; instructions: string[] }[]; metaArgs: string[]; findings: string[] };
    expect(parsed.findings).toEqual([]);
    expect(r.status).toBe(0);
    expect(parsed.metaArgs).toEqual(['NODE_VERSION']);
    expect(parsed.stages.map((st) => [st.name, st.base])).toEqual([
      ['build', 'node:${NODE_VERSION}-bookworm-slim'],
      ['runtime', 'node:${NODE_VERSION}-bookworm-slim'],
    ]);
    const runtime = parsed.stages[1].instructions;
    expect(runtime).toContain('USER 10001:10001');
    expect(runtime).toContain('ENTRYPOINT ["node", "/app/bin/tideway.js"]');
    expect(runtime.filter((i) => i.startsWith('COPY'))).toEqual(['COPY --from=build --chown=root:root /app /app']);
    expect(parsed.stages[0].instructions.some((i) => i.includes('npm prune --omit=dev'))).toBe(true);
  });

  test('the checker does reject a broken Dockerfile', () => {
    const r = run(ensureTool('dockerfile-check'), [tempFile('Dockerfile', 'FROM node:24 as build\nCOPY --frm=build a b\n')]);
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/unknown flag: --frm/);
  });
  const lines = dockerfile.split('\n').filter((l) => !l.trimStart().startsWith('#'));
  const stages = dockerfile.split(/^FROM /m).slice(1);
  const finalStage = stages[stages.length - 1];

  test('is multi-stage, on a supported Node LTS by default', () => {
    expect(stages.length).toBeGreaterThanOrEqual(2);
    const version = /^ARG NODE_VERSION=(\d+)$/m.exec(dockerfile)?.[1];
    expect(Number(version)).toBeGreaterThanOrEqual(22);
    expect(Number(version) % 2).toBe(0); // even majors are the LTS lines
    for (const s of stages) expect(s).toMatch(/^node:\$\{NODE_VERSION\}-bookworm-slim AS /);
  });

  test('the final stage runs as a numeric non-root user with tideway as the entrypoint', () => {
    expect(finalStage).toMatch(/^USER 10001:10001$/m);
    expect(finalStage).toContain('ENTRYPOINT ["node", "/app/bin/tideway.js"]');
    expect(finalStage).not.toMatch(/^RUN npm (ci|install)/m);
  });

  test('production dependencies only: dev dependencies are pruned before the copy', () => {
    expect(dockerfile).toMatch(/npm prune --omit=dev/);
  });

  test('copies the manifest of every workspace before npm ci, and every path it copies exists and is not ignored', () => {
    const rootPkg = JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as { workspaces: string[] };
    const copies = lines
      .filter((l) => /^COPY (?!--from)/.test(l))
      .flatMap((l) =>
        l
          .replace(/^COPY (--\S+ )*/, '')
          .split(/\s+/)
          .slice(0, -1),
      );
    for (const ws of rootPkg.workspaces) expect(copies).toContain(`${ws}/package.json`);
    const ignored = readFileSync(join(REPO_ROOT, '.dockerignore'), 'utf8')
      .split('\n')
      .map((l) => l.trim())
      .filter((l) => l && !l.startsWith('#'));
    for (const src of copies) {
      expect([src, existsSync(join(REPO_ROOT, src))]).toEqual([src, true]);
      expect(ignored.filter((pattern) => src === pattern || src.startsWith(`${pattern}/`))).toEqual([]);
    }
  });
});
