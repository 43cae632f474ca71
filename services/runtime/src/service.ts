/**
 * Turns a service definition into a well-behaved process: argument parsing, validated
 * settings (exit 2 with one line on bad input), logger, metrics, the HTTP endpoint, the Kafka
 * client, and a bounded graceful shutdown on SIGTERM/SIGINT.
 */
import type { Registry } from 'prom-client';
import { commonSettings, type CommonSettingsSchema } from './common-settings';
import { loadSettings, readConfigFile, renderSettingsHelp, type SettingsOf, type SettingsSchema } from './config';
import { ConfigError, errorMessage, isTidewayError, TidewayError } from './errors';
import { Readiness, ServiceHttpServer } from './http-server';
import { createKafkaClient } from './kafka/client';
import type { KafkaClient } from './kafka/types';
import { createLogger, type Logger } from './logger';
import { createRegistry } from './metrics';

export type ServiceSettingsSchema = ReturnType<typeof commonSettings> & SettingsSchema;

export interface ServiceContext<S extends ServiceSettingsSchema> {
  name: string;
  settings: SettingsOf<S>;
  logger: Logger;
  registry: Registry;
  readiness: Readiness;
  kafka: KafkaClient;
  /** Aborted when shutdown starts; long waits should listen to it. */
  signal: AbortSignal;
  /** Report an unrecoverable error: the service is stopped and the process exits non-zero. */
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
    'Settings:',
    renderSettingsHelp(def.settings),
    '',
  ].join('\n');
}

/** Resolves settings from argv + env; throws ConfigError. Exported for tests and `--help`. */
export function resolveSettings<S extends ServiceSettingsSchema>(def: ServiceDefinition<S>, argv: string[], env: NodeJS.ProcessEnv): { args: ParsedArgs; settings?: SettingsOf<S> } {
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
      await http.close().catch(() => undefined);
      logger.info({ exitCode }, 'stopped');
      logger.flush();
      process.exit(exitCode);
    })();
    return stopping;
  };

  const fail = (err: unknown) => {
    if (isTidewayError(err) && err.exitCode === 2) {
      process.stderr.write(`tideway ${def.name}: ${err.message}\n`);
      logger.fatal({ code: err.code }, err.message);
      void shutdown('fatal configuration error', 2);
      return;
    }
    logger.fatal({ err, code: isTidewayError(err) ? err.code : undefined }, `fatal: ${errorMessage(err)}`);
    void shutdown('fatal error', isTidewayError(err) ? err.exitCode : 1);
  };

  process.on('SIGTERM', () => void shutdown('SIGTERM', 0));
  process.on('SIGINT', () => void shutdown('SIGINT', 0));
  process.on('unhandledRejection', (err) => fail(err));
  process.on('uncaughtException', (err) => fail(err));

  try {
    const port = await http.listen(common.metricsPort, common.metricsHost);
    logger.info({ port, host: common.metricsHost }, 'http endpoint listening (/metrics, /healthz, /readyz)');
    const kafka = createKafkaClient(common, logger);
    // Not ready until start() has returned, whatever checks the service registers (or forgets to).
    const setStarted = readiness.flag('started');
    running = await def.start({ name: def.name, settings, logger, registry, readiness, kafka, signal: abort.signal, fail });
    setStarted(true);
    logger.info('started');
  } catch (err) {
    fail(err);
  }
  // Keep the promise pending forever: the process ends through shutdown().
  return new Promise<never>(() => undefined);
}
