/**
 * Credentials of an opensearch route. The routes file names where the secret is (an environment
 * variable or a file), never the secret itself; it is read once at start, and a missing one is a
 * configuration error naming the route field. The header value is never logged.
 */
import { readFileSync } from 'node:fs';
import { ConfigError } from '@tideway/runtime';

/** Where a secret is read from. */
export type SecretSource = { env: string } | { file: string };

export type AuthSpec = { kind: 'none' } | { kind: 'basic'; username: string; password: SecretSource } | { kind: 'apiKey'; apiKey: SecretSource };

export interface SecretReaders {
  env: NodeJS.ProcessEnv;
  readFile: (path: string) => string;
}

const defaultReaders = (): SecretReaders => ({ env: process.env, readFile: (p) => readFileSync(p, 'utf8') });

export function readSecret(source: SecretSource, field: string, readers: SecretReaders = defaultReaders()): string {
  if ('env' in source) {
    const v = readers.env[source.env];
    if (v === undefined || v === '') throw new ConfigError(field, `environment variable ${source.env} is not set`);
    return v;
  }
  let text: string;
  try {
    text = readers.readFile(source.file);
  } catch (err) {
    throw new ConfigError(field, `cannot read ${source.file}: ${(err as NodeJS.ErrnoException).code ?? 'error'}`);
  }
  // A secret file written by an orchestrator usually ends with a newline that is not part of it.
  const v = text.replace(/\r?\n$/, '');
  if (v === '') throw new ConfigError(field, `${source.file} is empty`);
  return v;
}

/** The Authorization header value (undefined without auth): `Basic base64(user:password)` or `ApiKey <key>`. */
export function authorizationHeader(spec: AuthSpec, route: string, readers?: SecretReaders): string | undefined {
  if (spec.kind === 'none') return undefined;
  if (spec.kind === 'basic') {
    const password = readSecret(spec.password, `route "${route}" opensearch.auth.password${'env' in spec.password ? 'Env' : 'File'}`, readers);
    return `Basic ${Buffer.from(`${spec.username}:${password}`).toString('base64')}`;
  }
  return `ApiKey ${readSecret(spec.apiKey, `route "${route}" opensearch.auth.apiKey${'env' in spec.apiKey ? 'Env' : 'File'}`, readers)}`;
}
