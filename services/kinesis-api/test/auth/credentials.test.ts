import { ConfigError } from '@tideway/runtime';
import { parseCredentials } from '../../src/auth/credentials';

describe('the credentials file', () => {
  it('maps each access key id to its secret, skipping comments and blank lines', () => {
    const keys = parseCredentials('# producers\nAKIDEXAMPLE:wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY\n\n  AKIAOTHER : s3cr:et  \r\n', '/etc/keys');
    expect([...keys]).toEqual([
      ['AKIDEXAMPLE', 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY'],
      ['AKIAOTHER', 's3cr:et'],
    ]);
  });

  it.each([
    ['a line without a colon', 'AKIDEXAMPLE wJalrXUtnFEMI', '/etc/keys line 1: expected ACCESS_KEY_ID:SECRET_ACCESS_KEY'],
    ['an empty secret', '# x\nAKID:', '/etc/keys line 2: expected ACCESS_KEY_ID:SECRET_ACCESS_KEY'],
    ['a key id with spaces', 'AK ID:topsecret', '/etc/keys line 1: expected ACCESS_KEY_ID:SECRET_ACCESS_KEY'],
    ['a key listed twice', 'A:topsecret\nA:othersecret', '/etc/keys line 2: access key id A is listed twice'],
    ['no key at all', '# nothing\n', '/etc/keys holds no keys'],
  ])('rejects %s naming the line, never a secret', (_what, text, message) => {
    let err: unknown;
    try {
      parseCredentials(text, '/etc/keys');
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).message).toContain(`KINESIS_API_CREDENTIALS_FILE: ${message}`);
    expect((err as ConfigError).message).not.toMatch(/secret(?!_ACCESS_KEY)|wJalr/);
  });
});
