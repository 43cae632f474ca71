#!/usr/bin/env node
// Makes package-lock.json acceptable to `npm ci` again after an `npm install` on this machine.
//
// Why: the npm registry reachable here lacks some platform builds of optional native packages
// (e.g. it serves @swc/core-darwin-arm64 only up to 1.16.18, not 1.16.22). `npm install` then
// silently leaves those optional packages out of the lock, and `npm ci` refuses the lock:
// "package.json and package-lock.json are not in sync ... Missing: @swc/core-darwin-arm64@ from lock file".
// A lock written where the registry is complete has an entry for every platform build, marked
// optional with its os/cpu, and npm skips the ones that do not match the machine without
// downloading them. This script adds such entries (version from the parent's
// optionalDependencies; os/cpu/libc from the package name) for every optional dependency that
// has no entry. It changes nothing else.
//
//   node scripts/lock-add-foreign-platforms.js [--check]
// --check: exit 1 (and list them) when entries are missing, change nothing.
'use strict';

const fs = require('node:fs');
const path = require('node:path');

const file = path.resolve(__dirname, '..', 'package-lock.json');
const lock = JSON.parse(fs.readFileSync(file, 'utf8'));
const check = process.argv.includes('--check');

const PLATFORM =
  /-(darwin|linux|win32|android|freebsd|openbsd|netbsd|sunos|aix|openharmony)-(arm64|x64|arm|ia32|ppc64|s390x|loong64|riscv64|mips64el|wasm32)(?:-([a-z0-9]+))?$/;

// Where node would find `dep` from the package at `key` (nested first, then each parent, then the root).
function resolvedKey(key, dep) {
  let base = key;
  for (;;) {
    const candidate = base ? `${base}/node_modules/${dep}` : `node_modules/${dep}`;
    if (lock.packages[candidate]) return candidate;
    if (!base) return null;
    const i = base.lastIndexOf('/node_modules/');
    base = i < 0 ? '' : base.slice(0, i);
  }
}

const added = [];
const unknown = [];
for (const [key, pkg] of Object.entries(lock.packages)) {
  for (const [dep, spec] of Object.entries(pkg.optionalDependencies || {})) {
    if (resolvedKey(key, dep)) continue;
    const m = PLATFORM.exec(dep);
    if (!m || !/^\d+\.\d+\.\d+(-[\w.]+)?$/.test(spec)) {
      unknown.push(`${key || '(root)'} -> ${dep}@${spec}`);
      continue;
    }
    const [, os, cpu, variant] = m;
    const entry = { version: spec, cpu: [cpu] };
    if (pkg.dev) entry.dev = true;
    if (os === 'linux') entry.libc = [variant && variant.startsWith('musl') ? 'musl' : 'glibc'];
    entry.optional = true;
    entry.os = [os];
    const at = key ? `${key.slice(0, key.lastIndexOf('node_modules/') + 'node_modules/'.length)}${dep}` : `node_modules/${dep}`;
    if (!check) lock.packages[at] = entry;
    added.push(`${at}@${spec} (${os}/${cpu})`);
  }
}

if (check) {
  if (added.length) console.log(`missing from package-lock.json:\n  ${added.join('\n  ')}`);
  if (unknown.length) console.log(`missing optional dependencies that are not platform builds:\n  ${unknown.join('\n  ')}`);
  process.exit(added.length || unknown.length ? 1 : 0);
}

if (added.length) {
  const { '': root, ...rest } = lock.packages;
  lock.packages = {
    '': root,
    ...Object.fromEntries(
      Object.keys(rest)
        .sort((a, b) => a.localeCompare(b, 'en'))
        .map((k) => [k, rest[k]]),
    ),
  };
  fs.writeFileSync(file, `${JSON.stringify(lock, null, 2)}\n`);
}
console.log(`added ${added.length} lock entries${added.length ? `:\n  ${added.join('\n  ')}` : ''}`);
if (unknown.length) console.log(`left alone (not platform builds):\n  ${unknown.join('\n  ')}`);
