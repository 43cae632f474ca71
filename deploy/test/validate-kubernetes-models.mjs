#!/usr/bin/env node
// Validates rendered Kubernetes manifests offline against the JSON schemas that the npm packages
// kubernetes-models (core API, generated from the Kubernetes OpenAPI spec),
// @kubernetes-models/prometheus-operator and @kubernetes-models/keda (generated from those
// projects' CRDs) ship. ESM-only packages, hence a separate script the jest tests spawn.
//   node deploy/test/validate-kubernetes-models.mjs manifests.yaml
// Prints one JSON line: {"validated":[{"kind","name"}...],"errors":[{"kind","name","message"}...]}.
// A kind without a known schema is an error, never silently skipped.
import { readFileSync } from 'node:fs';
import { parseAllDocuments } from 'yaml';

function modulePath(apiVersion, kind) {
  if (apiVersion === 'monitoring.coreos.com/v1') return `@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/${kind}`;
  if (apiVersion.startsWith('keda.sh/')) return `@kubernetes-models/keda/${apiVersion}/${kind}`;
  if (apiVersion.includes('.') && !apiVersion.endsWith('.k8s.io')) return undefined;
  return `kubernetes-models/${apiVersion}/${kind}`;
}

const file = process.argv[2];
if (!file) {
  process.stderr.write('usage: validate-kubernetes-models.mjs <manifests.yaml>\n');
  process.exit(2);
}
const out = { validated: [], errors: [] };
for (const doc of parseAllDocuments(readFileSync(file, 'utf8'))) {
  if (doc.errors.length) {
    out.errors.push({ kind: '?', name: '?', message: `YAML: ${doc.errors[0].message}` });
    continue;
  }
  const obj = doc.toJS();
  if (obj === null || obj === undefined) continue;
  const { apiVersion, kind } = obj;
  const name = obj.metadata?.name ?? '?';
  const path = typeof apiVersion === 'string' && typeof kind === 'string' ? modulePath(apiVersion, kind) : undefined;
  if (!path) {
    out.errors.push({ kind: String(kind), name, message: `no schema known for ${apiVersion} ${kind}` });
    continue;
  }
  let Model;
  try {
    Model = (await import(path))[kind];
  } catch (err) {
    out.errors.push({ kind, name, message: `no schema for ${apiVersion} ${kind}: ${err.message}` });
    continue;
  }
  try {
    new Model(obj).validate();
    out.validated.push({ kind, name });
  } catch (err) {
    out.errors.push({ kind, name, message: err.message });
  }
}
process.stdout.write(JSON.stringify(out) + '\n');
process.exit(out.errors.length ? 1 : 0);
