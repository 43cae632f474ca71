/** `tideway bridge` (built dist/) as a child process with a routes file written for the test. */
import { writeTempFile } from './temp-file';
import { TidewayProcess } from './tideway-process';

export function writeRoutes(yaml: string): string {
  return writeTempFile('routes.yaml', yaml);
}

export function startBridge(routesFile: string, env: NodeJS.ProcessEnv = {}): Promise<TidewayProcess> {
  return TidewayProcess.start('bridge', {
    BRIDGE_ROUTES: routesFile,
    BRIDGE_COMMIT_INTERVAL_MS: '200',
    BRIDGE_RETRY_INITIAL_MS: '50',
    BRIDGE_RETRY_MAX_MS: '1000',
    SHUTDOWN_TIMEOUT_MS: '20000',
    ...env,
  });
}
