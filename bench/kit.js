/**
 * What every benchmark in bench/ shares: starting a Tideway service from the built dist/, the CPU and
 * peak RSS of a process from /proc, quantiles, and one result format per measured run.
 * Node built-ins only, so bench/kafka-client (its own package) can use it too.
 *
 * CPU per record: user + system CPU seconds of a process (utime + stime of /proc/<pid>/stat, in clock
 * ticks of `getconf CLK_TCK`; process.cpuUsage() for this process), sampled at the start and at the
 * end of a measured interval, divided by the records of that interval, in µs. It counts every thread
 * of the process (V8's helpers, worker threads, librdkafka's threads), so it is the process's cost of
 * one record, whatever it waited for.
 */
/* global fetch */
'use strict';
const { spawn, execFileSync } = require('node:child_process');
const { readFileSync, readdirSync } = require('node:fs');
const { createServer } = require('node:net');
const path = require('node:path');

const ROOT = path.resolve(__dirname, '..');
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// ---- processes ------------------------------------------------------------------------------

let clockTick;
/** Clock ticks per second of /proc/<pid>/stat (USER_HZ, normally 100). */
function clockTicks() {
  if (clockTick === undefined) {
    try {
      clockTick = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
    } catch {
      clockTick = 100;
    }
  }
  return clockTick;
}

/** user + system CPU seconds of a process so far (NaN when it is gone or unknown). */
function cpuSeconds(pid) {
  if (pid === undefined) return NaN;
  if (pid === process.pid) {
    const u = process.cpuUsage();
    return (u.user + u.system) / 1e6;
  }
  try {
    // Fields after the command name (which may hold spaces): utime and stime are the 12th and 13th.
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    return (Number(fields[11]) + Number(fields[12])) / clockTicks();
  } catch {
    return NaN;
  }
}

/** Peak RSS (VmHWM) of a process in MiB (NaN when it is gone). */
function peakRssMiB(pid) {
  try {
    const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) / 1024 : NaN;
  } catch {
    return NaN;
  }
}

/** A local stack process's pid: from the env variable when set, else the one `npm run stack:up` wrote under .stack/run/. */
function stackPid(pidFile, envVariable) {
  if (process.env[envVariable]) return Number(process.env[envVariable]) || undefined;
  try {
    return Number(readFileSync(path.join(ROOT, '.stack', 'run', pidFile), 'utf8').trim()) || undefined;
  } catch {
    return undefined;
  }
}

/** The local broker's pid (BENCH_BROKER_PID when the stack runs from another checkout). */
const brokerPid = () => stackPid('kafka.pid', 'BENCH_BROKER_PID');

/** The local PostgreSQL's postmaster pid (BENCH_POSTGRES_PID when the stack runs from another checkout). */
const postgresPid = () => stackPid('postgres.pid', 'BENCH_POSTGRES_PID');

/**
 * CPU seconds of a process and all its children, living or exited: its own user + system time and
 * that of its exited, waited-for children (cutime, cstime), plus the same of each living child. For
 * PostgreSQL: the postmaster and every backend, including backends that ended during the interval.
 */
function treeCpuSeconds(pid) {
  if (pid === undefined) return NaN;
  const stat = (p) => readFileSync(`/proc/${p}/stat`, 'utf8').split(') ')[1].split(' ');
  // After the command name: state is field 0, ppid 1, utime 11, stime 12, cutime 13, cstime 14.
  const all = (f) => Number(f[11]) + Number(f[12]) + Number(f[13]) + Number(f[14]);
  try {
    let ticks = all(stat(pid));
    for (const entry of readdirSync('/proc')) {
      if (!/^\d+$/.test(entry) || Number(entry) === pid) continue;
      try {
        const f = stat(entry);
        if (Number(f[1]) === pid) ticks += all(f);
      } catch {
        // Gone between the listing and the read.
      }
    }
    return ticks / clockTicks();
  } catch {
    return NaN;
  }
}

/**
 * Starts a measured interval: wall time and the CPU seconds of `pid` (and of the broker with
 * `{ broker: true }`, of the local PostgreSQL and its backends with `{ postgres: true }`). `mark()`
 * samples now; `end(records, mark?)` gives the interval up to that sample: seconds, rate, cpuSeconds,
 * cpuMicrosPerRecord (and brokerCpuSeconds, brokerCpuMicrosPerRecord, postgresCpuSeconds,
 * postgresCpuMicrosPerRecord).
 */
function measure(pid, { broker = false, postgres = false } = {}) {
  const bPid = broker ? brokerPid() : undefined;
  const pgPid = postgres ? postgresPid() : undefined;
  const mark = () => ({
    at: process.hrtime.bigint(),
    cpu: cpuSeconds(pid),
    broker: broker ? cpuSeconds(bPid) : NaN,
    postgres: postgres ? treeCpuSeconds(pgPid) : NaN,
  });
  const start = mark();
  return {
    mark,
    end(records, last = mark()) {
      const seconds = Number(last.at - start.at) / 1e9;
      const cpu = last.cpu - start.cpu;
      const out = { seconds, rate: records / seconds, cpuSeconds: +cpu.toFixed(3), cpuMicrosPerRecord: +((cpu * 1e6) / records).toFixed(2) };
      if (broker) {
        const b = last.broker - start.broker;
        Object.assign(out, { brokerCpuSeconds: +b.toFixed(3), brokerCpuMicrosPerRecord: +((b * 1e6) / records).toFixed(2) });
      }
      if (postgres) {
        const p = last.postgres - start.postgres;
        Object.assign(out, { postgresCpuSeconds: +p.toFixed(3), postgresCpuMicrosPerRecord: +((p * 1e6) / records).toFixed(2) });
      }
      return out;
    },
  };
}

/** A TCP port free on 127.0.0.1 now. */
function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

/** The image's NODE_OPTIONS (Dockerfile): what a service runs with unless told otherwise. */
const IMAGE_SEMI_SPACE = '--max-semi-space-size=16';

/**
 * Node options for a service: BENCH_NODE_ARGS (e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof"), or
 * BENCH_CPU_PROF=<dir>; the image's semi-space size unless BENCH_NODE_ARGS or NODE_OPTIONS sets one.
 */
function serviceNodeArgs() {
  const args = (process.env.BENCH_NODE_ARGS || '').split(' ').filter(Boolean);
  if (process.env.BENCH_CPU_PROF) args.push('--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_CPU_PROF}`);
  const given = [...args, ...(process.env.NODE_OPTIONS || '').split(' ')];
  if (!given.some((a) => /^--max[-_]semi[-_]space[-_]size/.test(a))) args.push(IMAGE_SEMI_SPACE);
  return args;
}

/** Every process a bench started (services and peers): none outlives the bench, however it ends. */
const running = new Set();
const interruptHooks = [];
const OUTPUT_TAIL = 16 * 1024;

/** Tracks a child process until it exits: killed if the bench exits, fails or is interrupted first. */
function trackChild(child) {
  running.add(child);
  child.once('exit', () => running.delete(child));
  return child;
}

function killRunning() {
  for (const child of running) child.kill('SIGKILL');
}
process.on('exit', killRunning);

/** What an interrupted bench (SIGINT, SIGTERM) must undo before its processes are killed, e.g. a replication slot. */
function onInterrupt(hook) {
  interruptHooks.push(hook);
}

/** SIGTERM, then waits for the exit (SIGKILL if it has not exited within `graceMs`). */
async function stopChild(child, graceMs) {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
  await exited;
  clearTimeout(timer);
}

/**
 * Starts `node bin/tideway.js <service>` from the built dist/ with `env` on top of this process's
 * environment (METRICS_PORT free, LOG_LEVEL warn unless given, MALLOC_ARENA_MAX 2 and 16 MiB semi-spaces as the image sets them). Its output is passed through and its
 * tail kept, so a start that fails says why.
 */
async function startService(service, env = {}) {
  const port = Number(env.METRICS_PORT) || (await freePort());
  const child = spawn(process.execPath, [...serviceNodeArgs(), path.join(ROOT, 'bin', 'tideway.js'), service], {
    env: { ...process.env, LOG_LEVEL: 'warn', MALLOC_ARENA_MAX: process.env.MALLOC_ARENA_MAX ?? '2', ...env, METRICS_PORT: String(port) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let tail = '';
  const keep = (to) => (chunk) => {
    to.write(chunk);
    tail = (tail + chunk.toString()).slice(-OUTPUT_TAIL);
  };
  child.stdout.on('data', keep(process.stdout));
  child.stderr.on('data', keep(process.stderr));
  trackChild(child);
  const url = `http://127.0.0.1:${port}`;
  return {
    service,
    child,
    pid: child.pid,
    port,
    url,
    output: () => tail,
    exited: () => child.exitCode !== null || child.signalCode !== null,
    metrics: async () => (await fetch(`${url}/metrics`)).text(),
    /** Resolves once /readyz answers 200; throws if the process exits first or after `deadlineMs`. */
    async ready(deadlineMs = 120_000) {
      const until = Date.now() + deadlineMs;
      for (;;) {
        if (child.exitCode !== null || child.signalCode !== null)
          throw new Error(`tideway ${service} exited (${child.exitCode ?? child.signalCode}) before it was ready:\n${tail}`);
        try {
          if ((await fetch(`${url}/readyz`)).status === 200) return;
        } catch {
          // not listening yet
        }
        if (Date.now() > until) throw new Error(`tideway ${service} not ready after ${deadlineMs / 1000} s:\n${tail}`);
        await sleep(100);
      }
    },
    /** SIGTERM, then waits for the exit (SIGKILL if it has not exited within `graceMs`). */
    stop: (graceMs = 60_000) => stopChild(child, graceMs),
  };
}

/**
 * Runs a bench's main: exit 0 when it resolves; on an error, print it and exit 1; on SIGINT or
 * SIGTERM, run the interrupt hooks and exit 130. Whichever way, the processes it started are killed.
 */
function run(main) {
  for (const signal of ['SIGINT', 'SIGTERM']) {
    process.once(signal, () => {
      console.error(`# ${signal}: stopping`);
      Promise.allSettled(interruptHooks.map((hook) => hook())).finally(() => process.exit(130));
    });
  }
  main().then(
    () => process.exit(0),
    (err) => {
      console.error(err);
      process.exit(1);
    },
  );
}

/** The runtime's kafkajs client, for a bench's own pre-loading and reading (KAFKA_BROKERS, else the local stack's). */
function benchKafka() {
  const { createLogger, KafkajsClient, kafkaConfigFrom } = require('@tideway/runtime');
  const brokers = (process.env.KAFKA_BROKERS || '127.0.0.1:9092').split(',');
  return new KafkajsClient(
    kafkaConfigFrom(
      { kafkaBrokers: brokers, kafkaClientId: 'bench', kafkaSaslMechanism: 'none', kafkaTls: false, kafkaConnectionTimeoutMs: 10000 },
      createLogger('bench', 'silent'),
    ),
  );
}

/**
 * Reads `topic` from the beginning with a fresh consumer group of `kafka` (a runtime KafkaClient),
 * doing nothing per record, until `count` records arrived: the records read and the measured
 * interval (kit.measure, this process and the broker) from the first batch delivered, after the group join.
 */
async function consumeMeasured(kafka, { groupId, topic, count, partitions }) {
  const consumer = kafka.consumer({ groupId, fromBeginning: true, partitionsConsumedConcurrently: partitions });
  await consumer.connect();
  await consumer.subscribe([topic]);
  let n = 0;
  let run;
  let r;
  await new Promise((resolve) => {
    void consumer.run(async (batch) => {
      if (run === undefined) run = measure(process.pid, { broker: true });
      n += batch.messages.length;
      if (n >= count && r === undefined) {
        r = run.end(n);
        resolve();
      }
    });
  });
  await consumer.disconnect();
  return { records: n, ...r };
}

// ---- statistics ----------------------------------------------------------------------------

/** p50 / p99 / max of samples in ms: the sample at rank floor(q·n) of the sorted samples. */
function quantiles(samples) {
  const v = [...samples].sort((a, b) => a - b);
  const q = (p) => v[Math.min(v.length - 1, Math.floor(p * v.length))];
  return { n: v.length, p50Ms: q(0.5), p99Ms: q(0.99), maxMs: v[v.length - 1] };
}

/** The cumulative buckets of a Prometheus histogram in a /metrics text. */
function histogramBuckets(text, name) {
  const buckets = [];
  const re = new RegExp(`^${name}_bucket\\{le="([^"]+)"[^}]*\\} (\\d+)`, 'gm');
  let m;
  while ((m = re.exec(text))) buckets.push({ le: m[1] === '+Inf' ? Infinity : Number(m[1]), count: Number(m[2]) });
  return buckets;
}

/** Quantile q of the observations between two scrapes of a histogram, interpolated within its bucket. */
function histogramQuantile(before, after, q) {
  const b = after.map((x, i) => ({ le: x.le, count: x.count - (before[i] ? before[i].count : 0) }));
  const total = b[b.length - 1].count;
  const rank = q * total;
  let prevLe = 0;
  let prevCount = 0;
  for (const x of b) {
    if (x.count >= rank) {
      if (x.le === Infinity) return prevLe;
      return prevLe + ((x.le - prevLe) * (rank - prevCount)) / Math.max(1, x.count - prevCount);
    }
    prevLe = x.le;
    prevCount = x.count;
  }
  return NaN;
}

// ---- results -------------------------------------------------------------------------------

/** "1,234 µs CPU/<unit>" with a precision that suits the figure. */
function cpuText(micros, unit = 'record') {
  return `${micros >= 100 ? Math.round(micros) : micros.toFixed(1)} µs CPU/${unit}`;
}

/**
 * One measured run: the human line (when given), then `RESULT {"bench":…,"run":…,…}` — one JSON
 * object a line, the same for every bench, for scripts to collect.
 */
function result(bench, runName, fields, human) {
  if (human) console.log(human);
  console.log(`RESULT ${JSON.stringify({ bench, run: runName, ...fields })}`);
}

module.exports = {
  ROOT,
  sleep,
  clockTicks,
  cpuSeconds,
  peakRssMiB,
  brokerPid,
  measure,
  freePort,
  startService,
  trackChild,
  stopChild,
  onInterrupt,
  run,
  benchKafka,
  consumeMeasured,
  quantiles,
  histogramBuckets,
  histogramQuantile,
  cpuText,
  result,
};
