/**
 * Turns a service definition into a well-behaved process: argument parsing, validated
 * settings (exit 2 with one line on bad input), logger, metrics, the HTTP endpoint, the Kafka
 * client, and a bounded graceful shutdown on SIGTERM/SIGINT.
 */
import type { Registry } from 'prom-client';
import { commonSettings, type CommonSettingsSchema } from './common-settings';
import { loadSettings, readConfigFile, renderSettingsHelp, type SettingsOf, type SettingsSchema } from './config';
import { backoffDelayMs, sleep } from './backoff';
import { DependencyHealth } from './dependency-health';
import { canRetry, ConfigError, errorMessage, isTidewayError, TidewayError } from './errors';
import { Readiness, ServiceHttpServer } from './http-server';
import { createKafkaClient } from './kafka/client';
import type { KafkaClient } from './kafka/types';
import { ignoreFailure } from './ignore-failure';
import { createLogger, type Logger } from './logger';
import { Counter, createRegistry } from './metrics';

export type ServiceSettingsSchema = ReturnType<typeof commonSettings> & SettingsSchema;

export interface ServiceContext<S extends ServiceSettingsSchema> {
  name: string;
  settings: SettingsOf<S>;
  logger: Logger;
  registry: Registry;
  readiness: Readiness;
  kafka: KafkaClient;
  /** Dependency state: `health.retry('postgres', 'connect', fn)` retries transient failures, logged once per change. */
  health: DependencyHealth;
  /** Aborted when shutdown starts (or this start attempt is abandoned); long waits should listen to it. */
  signal: AbortSignal;
  /**
   * Report an error that stopped part of the service. A transient one (`canRetry`) restarts the
   * service in-process with backoff; any other stops it and the process exits non-zero.
   */
  fail(err: unknown): void;
}

export interface RunningService {
  /** Stop fetching, finish in-flight work, commit, disconnect. Bounded by SHUTDOWN_TIMEOUT_MS. */
  stop(): Promise<void>;
}

export interface ServiceDefinition<S extends ServiceSettingsSchema> {
  /** CLI name: `tideway <name>`. */
  name: string;
  /** One line for `--help`. */
  summary: string;
  settings: S;
  start(ctx: ServiceContext<S>): Promise<RunningService>;
}

export interface ParsedArgs {
  help: boolean;
  configFile?: string;
}

export function parseServiceArgs(argv: string[]): ParsedArgs {
  const out: ParsedArgs = { help: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--help' || a === '-h') out.help = true;
    else if (a === '--config' || a === '-c') {
      const v = argv[++i];
      if (!v) throw new ConfigError('--config', 'needs a file path');
      out.configFile = v;
    } else if (a.startsWith('--config=')) out.configFile = a.slice('--config='.length);
    else throw new ConfigError(a, 'unknown argument (see --help)');
  }
  return out;
}

export function serviceHelp<S extends ServiceSettingsSchema>(def: ServiceDefinition<S>): string {
  return [
    `tideway ${def.name} — ${def.summary}`,
    '',
    `Usage: tideway ${def.name} [--config FILE]`,
    '',
    'Settings come from environment variables, or from a YAML file given with --config',
    '(keys are the variable names below); the environment wins over the file.',
    '',
    'Settings, the required ones first:',
    '',
    renderSettingsHelp(def.settings),
    '',
  ].join('\n');
}

/** Resolves settings from argv + env; throws ConfigError. Exported for tests and `--help`. */
export function resolveSettings<S extends ServiceSettingsSchema>(
  def: ServiceDefinition<S>,
  argv: string[],
  env: NodeJS.ProcessEnv,
): { args: ParsedArgs; settings?: SettingsOf<S> } {
  const args = parseServiceArgs(argv);
  if (args.help) return { args };
  const file = args.configFile ? readConfigFile(args.configFile) : undefined;
  return { args, settings: loadSettings(def.settings, { env, file }) };
}

function exitWithConfigError(name: string, err: TidewayError): never {
  process.stderr.write(`tideway ${name}: ${err.code === 'CONFIG_INVALID' ? 'invalid configuration: ' : ''}${err.message}\n`);
  process.exit(2);
}

/** Runs the service until SIGTERM/SIGINT or a fatal error. Never returns. */
export async function runService<S extends ServiceSettingsSchema>(def: ServiceDefinition<S>, argv: string[]): Promise<never> {
  let settings: SettingsOf<S>;
  try {
    const resolved = resolveSettings(def, argv, process.env);
    if (!resolved.settings) {
      process.stdout.write(serviceHelp(def));
      process.exit(0);
    }
    settings = resolved.settings;
  } catch (err) {
    if (isTidewayError(err) && err.exitCode === 2) exitWithConfigError(def.name, err);
    throw err;
  }

  const common = settings as unknown as SettingsOf<CommonSettingsSchema>;
  const logger = createLogger(def.name, common.logLevel);
  const registry = createRegistry(def.name);
  const readiness = new Readiness();
  const http = new ServiceHttpServer(registry, readiness);
  const abort = new AbortController();
  let running: RunningService | undefined;
  let stopping: Promise<never> | undefined;

  const shutdown = (reason: string, exitCode: number): Promise<never> => {
    if (stopping) return stopping;
    abort.abort();
    stopping = (async () => {
      logger.info({ reason }, 'shutting down');
      const timer = setTimeout(() => {
        logger.error({ timeoutMs: common.shutdownTimeoutMs }, 'shutdown timed out; exiting');
        process.exit(exitCode || 1);
      }, common.shutdownTimeoutMs);
      timer.unref();
      try {
        await running?.stop();
      } catch (err) {
        logger.error({ err }, 'error during shutdown');
        exitCode = exitCode || 1;
      }
      await http.close().catch(ignoreFailure(logger, 'closing the HTTP server'));
      logger.info({ exitCode }, 'stopped');
      logger.flush();
      process.exit(exitCode);
    })();
    return stopping;
  };

  const stopFatally = (err: unknown) => {
    if (isTidewayError(err) && err.exitCode === 2) {
      process.stderr.write(`tideway ${def.name}: ${err.message}\n`);
      logger.fatal({ code: err.code }, err.message);
      void shutdown('fatal configuration error', 2);
      return;
    }
    logger.fatal({ err, code: isTidewayError(err) ? err.code : undefined }, `fatal: ${errorMessage(err)}`);
    void shutdown('fatal error', isTidewayError(err) ? err.exitCode : 1);
  };

  const health = new DependencyHealth(registry, readiness, logger);
  const restarts = new Counter({
    name: 'tideway_service_restarts_total',
    help: 'In-process restarts of the service after a transient failure, by phase (start, running).',
    labelNames: ['phase'],
    registers: [registry],
  });
  // Not ready until start() has returned, whatever checks the service registers (or forgets to).
  const setStarted = readiness.flag('started');
  let attempt: AbortController | undefined;
  let restarting: Promise<void> | undefined;
  let lastFailure: string | undefined;

  /** Logged when the reason changes, not at every attempt. */
  const noteFailure = (phase: 'start' | 'running', err: unknown) => {
    const reason = errorMessage(err);
    restarts.inc({ phase });
    readiness.problem('service', `${phase}: ${reason}`);
    if (reason === lastFailure) return;
    lastFailure = reason;
    logger.warn({ err: reason, phase }, `${phase === 'start' ? 'start-up' : 'service'} failed on a transient error: ${reason}; retrying`);
  };

  // Every start attempt registers the service's metrics again on the same registry (prom-client
  // refuses a name twice), so an attempt first removes what the one before it registered. The
  // runtime's own metrics (process, restarts, dependency health) are registered before the first
  // attempt and stay; the service's counters start from zero again, as after a process restart.
  let runtimeMetrics: Set<string> | undefined;
  const removeServiceMetrics = () => {
    runtimeMetrics ??= new Set(registry.getMetricsAsArray().map((m) => m.name));
    for (const m of registry.getMetricsAsArray()) if (!runtimeMetrics.has(m.name)) registry.removeSingleMetric(m.name);
  };

  const startWithRetry = async (kafka: KafkaClient): Promise<void> => {
    for (let n = 0; !abort.signal.aborted; n++) {
      removeServiceMetrics();
      const current = new AbortController();
      attempt = current;
      // A failure reported by an abandoned attempt is not this attempt's.
      const attemptFail = (err: unknown) => (attempt === current ? fail(err) : undefined);
      try {
        const signal = AbortSignal.any([abort.signal, current.signal]);
        running = await def.start({ name: def.name, settings, logger, registry, readiness, kafka, health, signal, fail: attemptFail });
        setStarted(true);
        readiness.problem('service', undefined);
        if (lastFailure !== undefined) logger.info('recovered');
        lastFailure = undefined;
        logger.info('started');
        return;
      } catch (err) {
        current.abort();
        if (abort.signal.aborted) return;
        if (!canRetry(err)) return stopFatally(err);
        noteFailure('start', err);
        await sleep(Math.max(500, backoffDelayMs(n, { initialMs: 1000, maxMs: 30_000, multiplier: 2 })), abort.signal);
      }
    }
  };

  /** A transient failure while running: stop what runs (bounded), then start again. */
  const restart = (err: unknown, kafka: KafkaClient): void => {
    if (restarting || abort.signal.aborted) return;
    noteFailure('running', err);
    setStarted(false);
    attempt?.abort();
    const previous = running;
    running = undefined;
    restarting = (async () => {
      const bound = sleep(common.shutdownTimeoutMs, abort.signal);
      await Promise.race([previous?.stop().catch((e: unknown) => logger.warn({ err: errorMessage(e) }, 'error while stopping for a restart')), bound]);
      await sleep(1000, abort.signal);
      await startWithRetry(kafka);
    })().finally(() => (restarting = undefined));
  };

  let kafkaClient: KafkaClient | undefined;
  const fail = (err: unknown) => {
    if (stopping) return;
    if (canRetry(err) && kafkaClient) return restart(err, kafkaClient);
    stopFatally(err);
  };

  process.on('SIGTERM', () => void shutdown('SIGTERM', 0));
  process.on('SIGINT', () => void shutdown('SIGINT', 0));
  // A rejection or exception nobody handled ends the component that raised it: a transient one
  // restarts the service in-process, any other stops it.
  process.on('unhandledRejection', (err) => fail(err));
  process.on('uncaughtException', (err) => fail(err));

  try {
    const port = await http.listen(common.metricsPort, common.metricsHost);
    logger.info({ port, host: common.metricsHost }, 'http endpoint listening (/metrics, /healthz, /readyz)');
    kafkaClient = createKafkaClient(common, logger, { health, onFatal: (err) => fail(err) });
  } catch (err) {
    stopFatally(err);
  }
  if (kafkaClient) await startWithRetry(kafkaClient);
  // Keep the promise pending forever: the process ends through shutdown().
  return new Promise<never>(() => undefined);
}
