import { ConfigError } from '@tideway/runtime';
import { parseRoutesText } from '../../src/routes';

const parse = (body: string) =>
  parseRoutesText(`routes:\n  - name: views\n    topics: [claims]\n    opensearch:\n${body}`, 'routes.yaml', {
    resolveTransform: (p) => p,
    s3CustomEndpoint: false,
  });

function problem(body: string): string {
  try {
    parse(body);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as Error).message;
  }
  throw new Error('expected a ConfigError');
}

describe('opensearch routes', () => {
  test('defaults: daily indices, id from the key, Firehose buffering (5 MB / 300 s), no auth', () => {
    expect(parse('      endpoint: http://127.0.0.1:9200\n      index: claims\n')[0].destination).toEqual({
      type: 'opensearch',
      endpoint: 'http://127.0.0.1:9200',
      index: 'claims',
      indexRotationPeriod: 'OneDay',
      documentId: { kind: 'key' },
      bufferingHints: { sizeBytes: 5 * 1024 * 1024, intervalMs: 300_000 },
      auth: { kind: 'none' },
      caFile: undefined,
    });
  });

  test('every field', () => {
    const d = parse(
      [
        '      endpoint: https://search.internal:9200',
        '      index: policies',
        '      indexRotationPeriod: OneMonth',
        '      documentId: field:policy.id',
        '      bufferingHints: { sizeInMBs: 1, intervalInSeconds: 5 }',
        '      auth: { username: tideway, passwordFile: /run/secrets/os }',
        '      tls: { caFile: /etc/ssl/os-ca.pem }',
        '',
      ].join('\n'),
    )[0].destination;
    expect(d).toMatchObject({
      indexRotationPeriod: 'OneMonth',
      documentId: { kind: 'field', path: 'policy.id' },
      bufferingHints: { sizeBytes: 1024 * 1024, intervalMs: 5000 },
      auth: { kind: 'basic', username: 'tideway', password: { file: '/run/secrets/os' } },
      caFile: '/etc/ssl/os-ca.pem',
    });
    expect(parse('      endpoint: http://h:9200\n      index: x\n      auth: { apiKeyEnv: OS_KEY }\n')[0].destination).toMatchObject({
      auth: { kind: 'apiKey', apiKey: { env: 'OS_KEY' } },
    });
  });

  test.each([
    ['      index: x\n', 'opensearch.endpoint: required (or set OPENSEARCH_URL)'],
    ['      endpoint: ftp://h\n      index: x\n', 'opensearch.endpoint: must be an http:// or https:// URL'],
    ['      endpoint: http://u:p@h:9200\n      index: x\n', 'opensearch.endpoint: must not hold credentials'],
    ['      endpoint: http://h\n      index: Claims\n', 'opensearch.index: must be a lowercase index name'],
    [
      '      endpoint: http://h\n      index: x\n      indexRotationPeriod: Daily\n',
      'opensearch.indexRotationPeriod: must be one of NoRotation, OneHour, OneDay, OneWeek, OneMonth',
    ],
    ['      endpoint: http://h\n      index: x\n      documentId: hash\n', 'opensearch.documentId: must be key, none or field:<dotted.path>'],
    [
      '      endpoint: http://h\n      index: x\n      bufferingHints: { sizeInMBs: 200 }\n',
      'opensearch.bufferingHints.sizeInMBs: must be between 0.001 and 100',
    ],
    ['      endpoint: http://h\n      index: x\n      auth: { username: u, password: pw }\n', 'opensearch.auth.password: unknown field'],
    ['      endpoint: http://h\n      index: x\n      auth: { username: u }\n', 'opensearch.auth.passwordEnv: exactly one of passwordEnv'],
    ['      endpoint: http://h\n      index: x\n      auth: { passwordEnv: PW }\n', 'opensearch.auth.username: is required with a password'],
    ['      endpoint: http://h\n      index: x\n      tls: { caFile: /ca.pem }\n', 'opensearch.tls.caFile: needs an https:// endpoint'],
  ])('%j → %s', (body, message) => {
    expect(problem(body)).toContain(`route "views" ${message}`);
  });
});
