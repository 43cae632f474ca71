/**
 * The accepted access keys, from KINESIS_API_CREDENTIALS_FILE: one `ACCESS_KEY_ID:SECRET_ACCESS_KEY`
 * per line; blank lines and lines starting with `#` are skipped. Error messages name the line,
 * never its contents (a secret must not reach a log). Pure.
 */
import { ConfigError } from '@tideway/runtime';

const SETTING = 'KINESIS_API_CREDENTIALS_FILE';
/** AWS access key ids are letters and digits (AKIA…, ASIA…); a little wider to admit local conventions. */
const ACCESS_KEY_ID = /^[A-Za-z0-9_.-]{1,128}$/;

/** Access key id → secret access key. */
export type Credentials = ReadonlyMap<string, string>;

export function parseCredentials(text: string, path: string): Credentials {
  const keys = new Map<string, string>();
  text.split(/\r?\n/).forEach((raw, i) => {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) return;
    const colon = line.indexOf(':');
    const id = colon < 0 ? '' : line.slice(0, colon).trim();
    const secret = colon < 0 ? '' : line.slice(colon + 1).trim();
    if (!ACCESS_KEY_ID.test(id) || secret === '') {
      throw new ConfigError(SETTING, `${path} line ${i + 1}: expected ACCESS_KEY_ID:SECRET_ACCESS_KEY (the key id: letters, digits, ".", "_" or "-")`);
    }
    if (keys.has(id)) throw new ConfigError(SETTING, `${path} line ${i + 1}: access key id ${id} is listed twice`);
    keys.set(id, secret);
  });
  if (keys.size === 0) throw new ConfigError(SETTING, `${path} holds no keys (one ACCESS_KEY_ID:SECRET_ACCESS_KEY per line)`);
  return keys;
}
