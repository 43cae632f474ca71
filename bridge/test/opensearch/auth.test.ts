import { authorizationHeader, readSecret } from '../../src/opensearch/auth';
import { requestHeaders } from '../../src/opensearch/http-client';

const readers = (env: NodeJS.ProcessEnv, files: Record<string, string> = {}) => ({
  env,
  readFile: (p: string) => {
    if (!(p in files)) throw Object.assign(new Error('no'), { code: 'ENOENT' });
    return files[p];
  },
});

describe('opensearch credentials', () => {
  test('basic auth from an environment variable', () => {
    const h = authorizationHeader({ kind: 'basic', username: 'tideway', password: { env: 'OS_PW' } }, 'r', readers({ OS_PW: 's3cret' }));
    expect(h).toBe(`Basic ${Buffer.from('tideway:s3cret').toString('base64')}`);
    expect(requestHeaders(h, 'application/x-ndjson', 12)).toEqual({
      accept: 'application/json',
      'content-length': '12',
      'content-type': 'application/x-ndjson',
      authorization: h,
    });
  });
  test('an API key from a file (trailing newline dropped)', () => {
    const h = authorizationHeader({ kind: 'apiKey', apiKey: { file: '/run/secrets/key' } }, 'r', readers({}, { '/run/secrets/key': 'abc123\n' }));
    expect(h).toBe('ApiKey abc123');
  });
  test('no auth: no header', () => {
    expect(authorizationHeader({ kind: 'none' }, 'r')).toBeUndefined();
    expect(requestHeaders(undefined, undefined, 0)).toEqual({ accept: 'application/json', 'content-length': '0' });
  });
  test('a missing secret is a configuration error naming the route field, without any secret', () => {
    expect(() => authorizationHeader({ kind: 'basic', username: 'u', password: { env: 'OS_PW' } }, 'views', readers({}))).toThrow(
      /route "views" opensearch.auth.passwordEnv.*OS_PW is not set/,
    );
    expect(() => readSecret({ file: '/nope' }, 'f', readers({}))).toThrow(/cannot read \/nope: ENOENT/);
    expect(() => readSecret({ file: '/e' }, 'f', readers({}, { '/e': '\n' }))).toThrow(/is empty/);
  });
});
