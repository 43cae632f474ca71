/**
 * The `tideway` CLI as users meet it (built dist/): help for every command, and bad input
 * exiting 2 with exactly one line that names what is wrong — never a stack trace.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runTidewaySync } from '../test-support/tideway-process';

const SERVICES = ['cdc', 'dwh-loader', 'alerting', 'bridge', 'kinesis-api'];

function expectOneLineExit2(r: { status: number | null; stdout: string; stderr: string }, mentions: RegExp) {
  expect(r.status).toBe(2);
  const lines = r.stderr.trim().split('\n');
  expect(lines).toHaveLength(1);
  expect(lines[0]).toMatch(mentions);
  expect(r.stderr).not.toMatch(/\n\s+at /);
}

describe('tideway', () => {
  it('lists the commands with --help', () => {
    const r = runTidewaySync(['--help']);
    expect(r.status).toBe(0);
    for (const s of SERVICES) expect(r.stdout).toContain(s);
  });

  it('exits 2 on an unknown command', () => {
    expectOneLineExit2(runTidewaySync(['nope']), /unknown command "nope"/);
  });

  it('exits 2 with usage when no command is given', () => {
    expect(runTidewaySync([]).status).toBe(2);
  });
});

describe.each(SERVICES)('tideway %s', (service) => {
  it('--help lists its settings and the shared ones', () => {
    const r = runTidewaySync([service, '--help']);
    expect(r.status).toBe(0);
    expect(r.stdout).toContain(`tideway ${service}`);
    for (const env of ['KAFKA_BROKERS', 'LOG_LEVEL', 'METRICS_PORT', 'SHUTDOWN_TIMEOUT_MS']) expect(r.stdout).toContain(env);
  });

  it('--help groups its settings: required, then common, then tuning', () => {
    const out = runTidewaySync([service, '--help']).stdout;
    const headings = [/^Required \(/m, /^Common \(/m, /^Tuning \(/m].map((h) => out.search(h));
    expect(headings.every((i) => i > 0)).toBe(true);
    expect([...headings].sort((a, b) => a - b)).toEqual(headings);
    // A shared setting lands in its group, not in a block of its own.
    expect(out.indexOf('  KAFKA_BROKERS\n')).toBeGreaterThan(headings[1]);
    expect(out.indexOf('  SHUTDOWN_TIMEOUT_MS\n')).toBeGreaterThan(headings[2]);
  });

  it('exits 2 naming a malformed setting', () => {
    expectOneLineExit2(runTidewaySync([service], { KAFKA_BROKERS: 'not a broker', METRICS_PORT: '0' }), /KAFKA_BROKERS/);
    expectOneLineExit2(runTidewaySync([service], { METRICS_PORT: 'eighty' }), /METRICS_PORT.*integer/);
    expectOneLineExit2(runTidewaySync([service], { LOG_LEVEL: 'loud', METRICS_PORT: '0' }), /LOG_LEVEL/);
  });

  it('exits 2 on an unknown argument', () => {
    expectOneLineExit2(runTidewaySync([service, '--frobnicate']), /--frobnicate/);
  });

  it('exits 2 naming the line of a malformed YAML config file', () => {
    const dir = mkdtempSync(join(tmpdir(), 'tideway-cli-'));
    const file = join(dir, 'bad.yaml');
    writeFileSync(file, 'LOG_LEVEL: info\nKAFKA_BROKERS: [127.0.0.1:9092\nMETRICS_PORT: 0\n');
    expectOneLineExit2(runTidewaySync([service, '--config', file]), /bad\.yaml line \d+.*malformed YAML/);
  });

  it('exits 2 naming an unknown key and a secret in a config file', () => {
    const dir = mkdtempSync(join(tmpdir(), 'tideway-cli-'));
    const unknown = join(dir, 'unknown.yaml');
    writeFileSync(unknown, 'NOT_A_SETTING: 1\n');
    expectOneLineExit2(runTidewaySync([service, '--config', unknown]), /NOT_A_SETTING: unknown setting/);
    const secret = join(dir, 'secret.yaml');
    writeFileSync(secret, 'KAFKA_SASL_PASSWORD: hunter2\n');
    const r = runTidewaySync([service, '--config', secret]);
    expectOneLineExit2(r, /KAFKA_SASL_PASSWORD.*secret/);
    expect(r.stderr + r.stdout).not.toContain('hunter2');
  });
});
