/** A file in a fresh temporary directory, e.g. the routes or rules YAML a service is started with. */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export function writeTempFile(name: string, content: string): string {
  const file = join(mkdtempSync(join(tmpdir(), 'tideway-test-')), name);
  writeFileSync(file, content);
  return file;
}
