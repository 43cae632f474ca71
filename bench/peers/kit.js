/**
 * What the peer benchmarks share: the Java programs Tideway is measured against (built from a
 * pom.xml by scripts/tools/java-classpath.sh, run with the machine's Java), Kafka Connect standalone
 * with a connector's properties, runs that alternate Tideway and its peer, and one comparison table.
 * Everything about one process's CPU and RSS comes from bench/kit.js.
 */
/* global fetch */
'use strict';
const { spawn, execFileSync } = require('node:child_process');
const { mkdtempSync, openSync, readFileSync, writeFileSync } = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const kit = require('../kit');

/** The class path of the Java program in `dir` (its pom.xml, plus `sources` compiled), built once and cached. */
function javaClasspath(name, dir, sources = []) {
  return execFileSync('bash', [path.join(kit.ROOT, 'scripts/tools/java-classpath.sh'), name, dir, sources.join(' ')], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
  }).trim();
}

/**
 * Starts `java -cp classpath main args…` with a heap of `heapMiB`. Its output goes to a log file
 * (printed when it fails) so a peer's INFO lines do not drown the bench's own.
 */
function startJava({ name, classpath, main, args = [], env = {}, heapMiB = 1024, jvmArgs = [] }) {
  const dir = mkdtempSync(path.join(os.tmpdir(), `tideway-peer-${name}-`));
  const logFile = path.join(dir, 'output.log');
  const out = openSync(logFile, 'a');
  const child = spawn('java', [`-Xmx${heapMiB}m`, ...jvmArgs, '-cp', classpath, main, ...args], {
    env: { ...process.env, ...env },
    stdio: ['ignore', out, out],
  });
  // Never left running when the bench ends, whichever way it ends.
  kit.trackChild(child);
  return {
    name,
    child,
    pid: child.pid,
    dir,
    logFile,
    exited: () => child.exitCode !== null || child.signalCode !== null,
    output: () => readFileSync(logFile, 'utf8').slice(-16 * 1024),
    /** SIGTERM (the JVM's shutdown hooks run), SIGKILL after `graceMs`. */
    stop: (graceMs = 30_000) => kit.stopChild(child, graceMs),
  };
}

function propertiesText(props) {
  return Object.entries(props)
    .map(([k, v]) => `${k}=${String(v).replace(/\\/g, '\\\\').replace(/\n/g, '\\n')}`)
    .join('\n');
}

/**
 * Kafka Connect standalone (org.apache.kafka.connect.cli.ConnectStandalone) with `worker` properties
 * on top of sensible defaults (the stack's broker, JSON converters, offsets in a file of its own, a
 * free REST port) and one connector per entry of `connectors` (each a properties object with `name`;
 * none to start the worker alone and add them later with `addConnector`).
 */
async function startConnectStandalone({ name, classpath, worker = {}, connectors = [], heapMiB = 1024 }) {
  const dir = mkdtempSync(path.join(os.tmpdir(), `tideway-connect-${name}-`));
  const restPort = await kit.freePort();
  const workerProps = {
    'bootstrap.servers': process.env.KAFKA_BROKERS || '127.0.0.1:9092',
    'key.converter': 'org.apache.kafka.connect.json.JsonConverter',
    'value.converter': 'org.apache.kafka.connect.json.JsonConverter',
    'offset.storage.file.filename': path.join(dir, 'offsets'),
    'offset.flush.interval.ms': 1000,
    listeners: `http://127.0.0.1:${restPort}`,
    'plugin.discovery': 'only_scan',
    ...worker,
  };
  const workerFile = path.join(dir, 'worker.properties');
  writeFileSync(workerFile, propertiesText(workerProps));
  const connectorFiles = connectors.map((c) => {
    const file = path.join(dir, `${c.name}.properties`);
    writeFileSync(file, propertiesText(c));
    return file;
  });
  const log4j = path.join(dir, 'log4j2.properties');
  writeFileSync(
    log4j,
    'rootLogger.level=WARN\nrootLogger.appenderRef.stdout.ref=STDOUT\nappender.stdout.type=Console\nappender.stdout.name=STDOUT\nappender.stdout.layout.type=PatternLayout\nappender.stdout.layout.pattern=%d %p %c{1} %m%n\n',
  );
  const proc = startJava({
    name,
    classpath,
    main: 'org.apache.kafka.connect.cli.ConnectStandalone',
    args: [workerFile, ...connectorFiles],
    heapMiB,
    jvmArgs: [`-Dlog4j2.configurationFile=${log4j}`, `-Dlog4j.configuration=file:${log4j}`],
  });
  const restUrl = `http://127.0.0.1:${restPort}`;
  return {
    ...proc,
    restUrl,
    /** Resolves once the worker's REST API answers; throws on exit or after `deadlineMs`. */
    async restReady(deadlineMs = 180_000) {
      const until = Date.now() + deadlineMs;
      for (;;) {
        if (proc.exited()) throw new Error(`Kafka Connect (${name}) exited:\n${proc.output()}`);
        try {
          if ((await fetch(`${restUrl}/connectors`)).ok) return;
        } catch {
          // not listening yet
        }
        if (Date.now() > until) throw new Error(`Kafka Connect (${name}) REST API not up after ${deadlineMs / 1000} s:\n${proc.output()}`);
        await kit.sleep(100);
      }
    },
    /** Creates a connector (a properties object with `name`) on the running worker; `running()` then waits for it too. */
    async addConnector(props) {
      const { name: connector, ...config } = props;
      const res = await fetch(`${restUrl}/connectors/${encodeURIComponent(connector)}/config`, {
        method: 'PUT',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(Object.fromEntries(Object.entries(config).map(([k, v]) => [k, String(v)]))),
      });
      if (!res.ok) throw new Error(`creating connector ${connector}: ${res.status} ${await res.text()}`);
      connectors.push(props);
    },
    /** Resolves once every connector and its tasks are RUNNING; throws on FAILED, exit or `deadlineMs`. */
    async running(deadlineMs = 180_000) {
      const until = Date.now() + deadlineMs;
      for (const c of connectors) {
        for (;;) {
          if (proc.exited()) throw new Error(`Kafka Connect (${name}) exited:\n${proc.output()}`);
          try {
            const res = await fetch(`${restUrl}/connectors/${encodeURIComponent(c.name)}/status`);
            if (res.ok) {
              const status = await res.json();
              const states = [status.connector.state, ...status.tasks.map((t) => t.state)];
              if (states.includes('FAILED')) throw new Error(`connector ${c.name} failed: ${JSON.stringify(status)}`);
              if (status.tasks.length > 0 && states.every((s) => s === 'RUNNING')) break;
            }
          } catch (err) {
            if (String(err.message).startsWith('connector ')) throw err;
          }
          if (Date.now() > until) throw new Error(`connector ${c.name} not running after ${deadlineMs / 1000} s:\n${proc.output()}`);
          await kit.sleep(250);
        }
      }
    },
  };
}

/**
 * Runs each contender `runs` times, alternating, the first contender of each round swapped every
 * round so neither always runs on a warmer machine. `contenders` maps a name to `async (round) =>
 * fields` (numbers to compare). Returns { name: [fields, …] }.
 */
async function alternate(runs, contenders) {
  const names = Object.keys(contenders);
  const results = Object.fromEntries(names.map((n) => [n, []]));
  for (let round = 0; round < runs; round += 1) {
    const order = round % 2 === 0 ? names : [...names].reverse();
    for (const name of order) {
      const fields = await contenders[name](round);
      results[name].push(fields);
      console.log(`# ${name} run ${round + 1}: ${JSON.stringify(fields)}`);
    }
  }
  return results;
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

function format(x) {
  if (typeof x !== 'number' || !Number.isFinite(x)) return String(x);
  if (Math.abs(x) >= 100) return Math.round(x).toLocaleString('en-US');
  return x.toFixed(1);
}

/**
 * Prints one table for a figure: each contender's median and every run, then the ratio of
 * `tideway` to `peer` medians per field (for fields where lower is better, `peer / tideway`, so
 * above 1 always means Tideway is ahead). Also emits a RESULT line per contender for scripts.
 */
function compare(bench, figure, results, { tideway = 'tideway', peer, lowerIsBetter = [] }) {
  const fields = Object.keys(results[tideway][0] ?? {});
  console.log(`\n## ${bench}: ${figure}`);
  console.log(`| field | ${tideway} (median; runs) | ${peer} (median; runs) | Tideway ahead by |`);
  console.log('| --- | --- | --- | --- |');
  const medians = {};
  for (const f of fields) {
    const t = results[tideway].map((r) => r[f]);
    const p = results[peer].map((r) => r[f]);
    const mt = median(t);
    const mp = median(p);
    medians[f] = { [tideway]: mt, [peer]: mp };
    const ratio = lowerIsBetter.includes(f) ? mp / mt : mt / mp;
    console.log(
      `| ${f} | ${format(mt)} (${t.map(format).join(' · ')}) | ${format(mp)} (${p.map(format).join(' · ')}) | ${Number.isFinite(ratio) ? ratio.toFixed(2) + '×' : '—'} |`,
    );
  }
  kit.result(bench, figure, { medians, runs: results });
  return medians;
}

module.exports = { javaClasspath, startJava, startConnectStandalone, alternate, compare, median };
