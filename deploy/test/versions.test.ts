/**
 * One set of versions: the native stack (scripts/stack, .nvmrc, the lockfile) is what the tests run
 * on; docker-compose.yml, the Dockerfile, the chart's defaults and the README must name the same
 * Kafka, PostgreSQL, kinesis-mock, moto and Node.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';

const ROOT = join(__dirname, '..', '..');
const read = (...p: string[]) => readFileSync(join(ROOT, ...p), 'utf8');

function match(text: string, re: RegExp, what: string): string {
  const m = re.exec(text);
  if (!m) throw new Error(`${what}: ${re} not found`);
  return m[1];
}

/** What the native stack runs. */
const stack = {
  kafka: match(read('scripts', 'stack', 'lib.sh'), /^KAFKA_VERSION="\$\{KAFKA_VERSION:-([^}]+)\}"$/m, 'scripts/stack/lib.sh'),
  postgres: match(read('scripts', 'stack', 'lib.sh'), /^POSTGRES_MAJOR="\$\{POSTGRES_MAJOR:-(\d+)\}"$/m, 'scripts/stack/lib.sh'),
  moto: match(read('scripts', 'stack', 'moto-requirements.txt'), /^moto(?:\[[^\]]*\])?==(\S+)$/m, 'moto-requirements.txt'),
  kinesisMock: (JSON.parse(read('package-lock.json')) as { packages: Record<string, { version: string }> }).packages['node_modules/kinesis-local'].version,
  node: read('.nvmrc').trim().replace(/^v/, ''),
};
const nodeMajor = stack.node.split('.')[0];

describe('versions: one set for the native stack, compose, the image, the chart and the README', () => {
  const compose = parse(read('docker-compose.yml'), { merge: true }) as {
    services: Record<string, { image?: string; build?: { args?: Record<string, string> } }>;
  };

  test('the native stack names each version once (sanity of the sources read here)', () => {
    expect(stack.kafka).toMatch(/^\d+\.\d+\.\d+$/);
    expect(stack.postgres).toMatch(/^\d+$/);
    expect(stack.moto).toMatch(/^\d+\.\d+\.\d+$/);
    expect(stack.kinesisMock).toMatch(/^\d+\.\d+\.\d+$/);
    expect(stack.node).toMatch(/^\d+\.\d+\.\d+$/);
  });

  test('docker-compose.yml runs the same Kafka, PostgreSQL, kinesis-mock and moto, and builds on the same Node major', () => {
    const s = compose.services;
    expect(s.kafka.image).toBe(`apache/kafka:${stack.kafka}`);
    expect(s.postgres.image).toBe(`postgres:${stack.postgres}-bookworm`);
    expect(s.kinesis.image).toBe(`ghcr.io/etspaceman/kinesis-mock:${stack.kinesisMock}`);
    expect(s.moto.image).toBe(`motoserver/moto:${stack.moto}`);
    expect(s.cdc.build?.args?.NODE_VERSION).toBe(nodeMajor);
  });

  test('the Dockerfile defaults to the same Node major', () => {
    expect(match(read('Dockerfile'), /^ARG NODE_VERSION=(\d+)$/m, 'Dockerfile')).toBe(nodeMajor);
  });

  test("the chart's defaults name the same Kafka and PostgreSQL", () => {
    const values = read('helm', 'tideway', 'values.yaml');
    expect(values).toContain(`Tested with Apache Kafka ${stack.kafka} (KRaft)`);
    expect(values).toContain(`Tested with PostgreSQL ${stack.postgres} (wal_level=logical)`);
    expect(values.match(/Apache Kafka \d[\d.]*/g)?.every((v) => v === `Apache Kafka ${stack.kafka}`)).toBe(true);
  });

  test('the README names the same versions', () => {
    const readme = read('README.md');
    const line = match(readme, /^(Tested with Apache Kafka [\s\S]*?on Node [\d.]+\.)$/m, 'README.md').replace(/\s+/g, ' ');
    expect(line).toContain(`Tested with Apache Kafka ${stack.kafka} `);
    expect(line).toContain(`PostgreSQL ${stack.postgres},`);
    expect(line).toContain(`kinesis-mock ${stack.kinesisMock} `);
    expect(line).toContain(`moto ${stack.moto},`);
    expect(line).toContain(`on Node ${stack.node}.`);
  });
});
