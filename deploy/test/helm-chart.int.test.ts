/**
 * helm/tideway: `helm lint`, `helm template` under several value sets, every rendered manifest
 * validated offline (kubernetes-validate --strict for the core API, kubernetes-models for the
 * core API and the Prometheus Operator / KEDA CRDs), and the chart's promises checked on the
 * rendered objects (probes, restricted securityContext, monitors only with their CRDs, KEDA
 * capped at the partition count, values.schema.json rejecting bad values).
 */
import { cpSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse, parseAllDocuments } from 'yaml';
import { CHART_DIR, GRAFANA_DIR, KUBE_VERSION, PROMETHEUS_DIR, REPO_ROOT, TOOL_INSTALL_TIMEOUT_MS, ensureTool, run, runOk, tempFile } from './tools';

jest.setTimeout(TOOL_INSTALL_TIMEOUT_MS);

// Rendered manifests are arbitrary JSON; the assertions below say what they expect of them.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Manifest = { apiVersion: string; kind: string; metadata: { name: string; labels?: Record<string, string> }; spec?: any; data?: Record<string, string> };

const CRD_APIS = ['monitoring.coreos.com/v1/ServiceMonitor', 'monitoring.coreos.com/v1/PrometheusRule', 'keda.sh/v1alpha1/ScaledObject'];
const SERVICES = ['cdc', 'dwh-loader', 'alerting', 'bridge', 'kinesis-api'];
const STRIMZI_VALUES = join(CHART_DIR, 'examples', 'values-strimzi.yaml');
/** The least a working install needs (database Secrets, rules, routes); later -f/--set override it. */
const MINIMAL_VALUES = join(CHART_DIR, 'examples', 'values-minimal.yaml');

let helm: string;
beforeAll(() => {
  helm = ensureTool('helm');
});

function template(args: string[]): { yaml: string; objects: Manifest[] } {
  const yaml = runOk(helm, ['template', 'tw', CHART_DIR, '--namespace', 'etl', '--kube-version', KUBE_VERSION, '-f', MINIMAL_VALUES, ...args]);
  const objects = parseAllDocuments(yaml)
    .map((d) => d.toJS() as Manifest | null)
    .filter((o): o is Manifest => o !== null);
  return { yaml, objects };
}
const withCrds = CRD_APIS.flatMap((a) => ['--api-versions', a]);
const ofKind = (objs: Manifest[], kind: string) => objs.filter((o) => o.kind === kind);
const valuesFile = (values: unknown) => tempFile('values.yaml', JSON.stringify(values));

/** kinesis-api (off by default) on, its credentials, iterator key and TLS pair from existing Secrets. */
const KINESIS_API_FROM_SECRETS = {
  enabled: true,
  auth: { credentials: { existingSecret: 'kinesis-keys' } },
  iteratorSecret: { existingSecret: 'kinesis-iterator', key: 'key' },
  tls: { existingSecret: 'kinesis-tls' },
};
/** kinesis-api with its credentials file and iterator key given as values: the chart makes the Secret. */
const KINESIS_API_FROM_VALUES = {
  enabled: true,
  auth: { credentials: { content: 'AKIAPRODUCER0000001:producer-secret\nAKIACONSUMER0000001:consumer-secret\n' } },
  iteratorSecret: { value: '5f0c8e6a1d2b47c39e8f0a1b2c3d4e5f60718293a4b5c6d7' },
};

/** All features on, with the CRDs served: the largest rendering, validated below. */
const FULL_VALUES = {
  kafka: {
    brokers: 'kafka-0.kafka:9093,kafka-1.kafka:9093',
    tls: { enabled: true, caSecret: { name: 'kafka-ca', key: 'ca.crt' } },
    sasl: { mechanism: 'scram-sha-512', existingSecret: 'kafka-user' },
  },
  services: {
    cdc: { secretEnv: { CDC_DATABASE_URL: { name: 'pg', key: 'url' } } },
    dwhLoader: { keda: { enabled: true, topic: 'app.public.claims', partitions: 6, maxReplicas: 20 } },
    alerting: { hpa: { enabled: true }, config: { content: 'rules: []\n' } },
    bridge: { config: { content: 'routes: []\n' }, env: { AWS_REGION: 'eu-west-1' } },
    kinesisApi: KINESIS_API_FROM_SECRETS,
  },
  metrics: { serviceMonitor: { enabled: true }, prometheusRule: { enabled: true } },
  dashboards: { enabled: true },
};

describe('helm lint', () => {
  test.each([
    ['the minimal example', ['-f', MINIMAL_VALUES]],
    ['the Strimzi example', ['-f', STRIMZI_VALUES]],
  ])('passes --strict with %s', (_name, args) => {
    const r = run(helm, ['lint', '--strict', CHART_DIR, '--kube-version', KUBE_VERSION, ...args]);
    expect(r.stdout + r.stderr).toContain('1 chart(s) linted, 0 chart(s) failed');
    expect(r.status).toBe(0);
  });
});

describe('rendered manifests are valid Kubernetes objects (offline schemas)', () => {
  const sets: [string, string[]][] = [
    ['the minimal example', []],
    ['all features with CRDs', ['-f', '__FULL__', ...withCrds]],
    ['the Strimzi example with CRDs', ['-f', STRIMZI_VALUES, ...withCrds]],
    ['kinesis-api with its Secret made from values', ['-f', '__KINESIS_VALUES__']],
  ];
  test.each(sets)('%s', (_name, rawArgs) => {
    const args = rawArgs.map((a) =>
      a === '__FULL__' ? valuesFile(FULL_VALUES) : a === '__KINESIS_VALUES__' ? valuesFile({ services: { kinesisApi: KINESIS_API_FROM_VALUES } }) : a,
    );
    const { yaml, objects } = template(args);
    const file = tempFile('manifests.yaml', yaml);

    // Core kinds, strict: unknown fields (a misspelt key) fail too.
    const kv = run(ensureTool('kubernetes-validate'), ['--strict', '--kubernetes-version', KUBE_VERSION, file]);
    const lines = (kv.stdout + kv.stderr).split('\n').filter(Boolean);
    const problems = lines.filter(
      (l) => !l.startsWith('INFO') && !/Couldn't find schema for kind (ServiceMonitor|PrometheusRule|ScaledObject|TriggerAuthentication) /.test(l),
    );
    expect(problems).toEqual([]);
    const core = objects.filter((o) => !['ServiceMonitor', 'PrometheusRule', 'ScaledObject', 'TriggerAuthentication'].includes(o.kind));
    expect(lines.filter((l) => l.startsWith('INFO') && l.includes(' passed for resource '))).toHaveLength(core.length);

    // Every kind, CRDs included, against the schemas generated from the Kubernetes OpenAPI spec and the CRDs.
    const km = run(process.execPath, [join(REPO_ROOT, 'deploy', 'test', 'validate-kubernetes-models.mjs'), file]);
    const result = JSON.parse(km.stdout) as { validated: unknown[]; errors: unknown[] };
    expect(result.errors).toEqual([]);
    expect(result.validated).toHaveLength(objects.length);
    expect(km.status).toBe(0);
  });
});

describe('what the chart renders', () => {
  test('one Deployment per service running `tideway <service>` with probes, resources and a restricted securityContext', () => {
    const { objects } = template(['-f', valuesFile({ services: { kinesisApi: KINESIS_API_FROM_SECRETS } })]);
    const deployments = ofKind(objects, 'Deployment');
    expect(deployments.map((d) => d.metadata.labels?.['app.kubernetes.io/component']).sort()).toEqual([...SERVICES].sort());
    for (const d of deployments) {
      const pod = d.spec.template.spec;
      const [c] = pod.containers;
      expect(c.args).toEqual([d.metadata.labels?.['app.kubernetes.io/component']]);
      expect(c.livenessProbe.httpGet.path).toBe('/healthz');
      expect(c.readinessProbe.httpGet.path).toBe('/readyz');
      expect(c.resources.requests.cpu).toBeDefined();
      expect(c.resources.limits.memory).toBeDefined();
      expect(pod.securityContext.runAsNonRoot).toBe(true);
      expect(pod.securityContext.seccompProfile.type).toBe('RuntimeDefault');
      expect(c.securityContext).toMatchObject({
        allowPrivilegeEscalation: false,
        readOnlyRootFilesystem: true,
        runAsNonRoot: true,
        capabilities: { drop: ['ALL'] },
      });
      expect(c.env).toEqual(
        expect.arrayContaining([
          { name: 'METRICS_HOST', value: '0.0.0.0' },
          { name: 'KAFKA_BROKERS', value: 'kafka-0.kafka:9092,kafka-1.kafka:9092,kafka-2.kafka:9092' },
        ]),
      );
    }
    expect(ofKind(objects, 'PodDisruptionBudget')).toHaveLength(5);
    expect(ofKind(objects, 'Service')).toHaveLength(5);
    // The cdc Deployment never runs two pods at once (one replication slot, one reader).
    expect(deployments.find((d) => d.metadata.name === 'tw-tideway-cdc')?.spec.strategy.type).toBe('Recreate');
  });

  test('a switched-off service renders nothing', () => {
    const { objects } = template(['--set', 'services.bridge.enabled=false', '--set', 'services.cdc.enabled=false']);
    const components = new Set(objects.map((o) => o.metadata.labels?.['app.kubernetes.io/component']).filter(Boolean));
    expect([...components].sort()).toEqual(['alerting', 'dwh-loader']);
  });

  test('monitors, rules and KEDA objects are rendered only when enabled AND their CRDs are served', () => {
    const enabled = valuesFile(FULL_VALUES);
    const without = template(['-f', enabled]).objects;
    for (const kind of ['ServiceMonitor', 'PrometheusRule', 'ScaledObject']) expect(ofKind(without, kind)).toEqual([]);
    const withThem = template(['-f', enabled, ...withCrds]).objects;
    for (const kind of ['ServiceMonitor', 'PrometheusRule', 'ScaledObject']) expect(ofKind(withThem, kind)).toHaveLength(1);
    const disabled = template(withCrds).objects;
    for (const kind of ['ServiceMonitor', 'PrometheusRule', 'ScaledObject']) expect(ofKind(disabled, kind)).toEqual([]);
  });

  test('the PrometheusRule carries exactly deploy/prometheus/rules, and the ServiceMonitor names jobs tideway-<service>', () => {
    const { objects } = template(['-f', valuesFile(FULL_VALUES), ...withCrds]);
    const rule = ofKind(objects, 'PrometheusRule')[0];
    const source = parse(readFileSync(join(PROMETHEUS_DIR, 'rules', 'tideway.rules.yml'), 'utf8'));
    expect(rule.spec.groups).toEqual(source.groups);
    // The group that watches kinesis-api only: left out while the service is off (its default).
    const withoutApi = ofKind(
      template(['-f', valuesFile({ ...FULL_VALUES, services: { ...FULL_VALUES.services, kinesisApi: { enabled: false } } }), ...withCrds]).objects,
      'PrometheusRule',
    )[0];
    expect(withoutApi.spec.groups.map((g: { name: string }) => g.name)).toEqual(
      source.groups.map((g: { name: string }) => g.name).filter((n: string) => n !== 'tideway.kinesis-api'),
    );
    expect(source.groups.map((g: { name: string }) => g.name)).toContain('tideway.kinesis-api');
    const monitor = ofKind(objects, 'ServiceMonitor')[0];
    expect(monitor.spec.jobLabel).toBe('tideway.dev/job');
    const jobs = ofKind(objects, 'Service')
      .map((s) => s.metadata.labels?.['tideway.dev/job'])
      .sort();
    expect(jobs).toEqual(SERVICES.map((s) => `tideway-${s}`).sort());
  });

  test('KEDA scales on consumer lag with replicas capped at the partition count, and replaces fixed replicas', () => {
    const { objects } = template(['-f', valuesFile(FULL_VALUES), ...withCrds]);
    const so = ofKind(objects, 'ScaledObject')[0];
    expect(so.spec.maxReplicaCount).toBe(6); // maxReplicas 20, partitions 6
    expect(so.spec.triggers[0]).toMatchObject({
      type: 'kafka',
      metadata: { topic: 'app.public.claims', consumerGroup: 'tideway-dwh-loader', tls: 'enable', sasl: 'scram_sha512' },
    });
    // KEDA authenticates to Kafka with the service's own Secrets.
    const auth = ofKind(objects, 'TriggerAuthentication')[0];
    expect(so.spec.triggers[0].authenticationRef).toEqual({ name: auth.metadata.name });
    expect(auth.spec.secretTargetRef).toEqual([
      { parameter: 'username', name: 'kafka-user', key: 'username' },
      { parameter: 'password', name: 'kafka-user', key: 'password' },
      { parameter: 'ca', name: 'kafka-ca', key: 'ca.crt' },
    ]);
    const dwh = ofKind(objects, 'Deployment').find((d) => d.metadata.name === 'tw-tideway-dwh-loader');
    expect(dwh?.spec.replicas).toBeUndefined();
    const hpa = ofKind(objects, 'HorizontalPodAutoscaler');
    expect(hpa.map((h) => h.spec.scaleTargetRef.name)).toEqual(['tw-tideway-alerting']);
  });

  test('rules and routes are ConfigMaps mounted read-only; secrets are only referenced', () => {
    const { objects } = template(['-f', valuesFile(FULL_VALUES)]);
    const cms = ofKind(objects, 'ConfigMap').filter((c) => !c.metadata.name.includes('dashboard'));
    expect(cms.map((c) => [c.metadata.name, Object.keys(c.data ?? {})])).toEqual(
      expect.arrayContaining([
        ['tw-tideway-alerting', ['rules.yaml']],
        ['tw-tideway-bridge', ['routes.yaml']],
      ]),
    );
    const bridge = ofKind(objects, 'Deployment').find((d) => d.metadata.name === 'tw-tideway-bridge')!;
    const c = bridge.spec.template.spec.containers[0];
    expect(c.env).toContainEqual({ name: 'BRIDGE_ROUTES', value: '/etc/tideway/config/routes.yaml' });
    expect(c.volumeMounts).toContainEqual({ name: 'config', mountPath: '/etc/tideway/config', readOnly: true });
    expect(c.env).toContainEqual({ name: 'KAFKA_SASL_PASSWORD', valueFrom: { secretKeyRef: { name: 'kafka-user', key: 'password' } } });
    expect(ofKind(objects, 'Secret')).toEqual([]);
    const cdc = ofKind(objects, 'Deployment').find((d) => d.metadata.name === 'tw-tideway-cdc')!;
    expect(cdc.spec.template.spec.containers[0].env).toContainEqual({ name: 'CDC_DATABASE_URL', valueFrom: { secretKeyRef: { name: 'pg', key: 'url' } } });
  });

  test('kinesis-api: its API port on the Deployment and the Service; credentials, iterator key and TLS pair mounted from existing Secrets', () => {
    const { objects } = template(['-f', valuesFile(FULL_VALUES)]);
    const api = ofKind(objects, 'Deployment').find((d) => d.metadata.name === 'tw-tideway-kinesis-api')!;
    expect(api.spec.replicas).toBe(2);
    const pod = api.spec.template.spec;
    const c = pod.containers[0];
    expect(c.args).toEqual(['kinesis-api']);
    expect(c.ports).toContainEqual({ name: 'api', containerPort: 4566, protocol: 'TCP' });
    expect(c.env).toEqual(
      expect.arrayContaining([
        { name: 'KINESIS_API_HOST', value: '0.0.0.0' },
        { name: 'KINESIS_API_PORT', value: '4566' },
        { name: 'KINESIS_API_AUTH', value: 'sigv4' },
        { name: 'KINESIS_API_CREDENTIALS_FILE', value: '/etc/tideway/kinesis-api/credentials/credentials' },
        { name: 'KINESIS_API_ITERATOR_SECRET_FILE', value: '/etc/tideway/kinesis-api/iterator/key' },
        { name: 'KINESIS_API_TLS_CERT_FILE', value: '/etc/tideway/kinesis-api/tls/tls.crt' },
        { name: 'KINESIS_API_TLS_KEY_FILE', value: '/etc/tideway/kinesis-api/tls/tls.key' },
      ]),
    );
    // Every file the env names is on a read-only mount of the Secret holding it.
    const volumes = new Map<string, { secretName: string; items: { key: string; path: string }[] }>(
      pod.volumes.filter((v: { secret?: unknown }) => v.secret).map((v: { name: string; secret: never }) => [v.name, v.secret]),
    );
    const fileOf = (env: string) => c.env.find((e: { name: string }) => e.name === env).value as string;
    const secretOf = (env: string) => {
      const file = fileOf(env);
      const mount = c.volumeMounts.find((m: { mountPath: string }) => file.startsWith(`${m.mountPath}/`));
      expect(mount.readOnly).toBe(true);
      const volume = volumes.get(mount.name)!;
      const item = volume.items.find((i) => `${mount.mountPath}/${i.path}` === file)!;
      return [volume.secretName, item.key];
    };
    expect(secretOf('KINESIS_API_CREDENTIALS_FILE')).toEqual(['kinesis-keys', 'credentials']);
    expect(secretOf('KINESIS_API_ITERATOR_SECRET_FILE')).toEqual(['kinesis-iterator', 'key']);
    expect(secretOf('KINESIS_API_TLS_CERT_FILE')).toEqual(['kinesis-tls', 'tls.crt']);
    expect(secretOf('KINESIS_API_TLS_KEY_FILE')).toEqual(['kinesis-tls', 'tls.key']);
    const service = ofKind(objects, 'Service').find((s) => s.metadata.name === 'tw-tideway-kinesis-api')!;
    expect(service.spec.ports).toEqual([
      { name: 'http-metrics', port: 9464, targetPort: 'http-metrics', protocol: 'TCP' },
      { name: 'api', port: 4566, targetPort: 'api', protocol: 'TCP' },
    ]);
    expect(ofKind(objects, 'Secret')).toEqual([]);
  });

  test('kinesis-api: credentials and iterator key given as values go into a Secret of the chart, the same on every render', () => {
    const values = valuesFile({ services: { kinesisApi: KINESIS_API_FROM_VALUES } });
    const first = template(['-f', values]);
    expect(template(['-f', values]).yaml).toBe(first.yaml); // nothing random: every replica and every upgrade gets the same key
    const [secret] = ofKind(first.objects, 'Secret') as (Manifest & { data: Record<string, string> })[];
    expect(secret.metadata.name).toBe('tw-tideway-kinesis-api');
    const decoded = Object.fromEntries(Object.entries(secret.data).map(([k, v]) => [k, Buffer.from(v, 'base64').toString('utf8')]));
    expect(decoded).toEqual({ credentials: KINESIS_API_FROM_VALUES.auth.credentials.content, 'iterator-secret': KINESIS_API_FROM_VALUES.iteratorSecret.value });
    const api = ofKind(first.objects, 'Deployment').find((d) => d.metadata.name === 'tw-tideway-kinesis-api')!;
    const pod = api.spec.template.spec;
    expect(pod.volumes.filter((v: { secret?: unknown }) => v.secret).map((v: { secret: { secretName: string } }) => v.secret.secretName)).toEqual([
      'tw-tideway-kinesis-api',
      'tw-tideway-kinesis-api',
    ]);
    // A changed key rolls the pods.
    const changed = template(['-f', values, '--set', 'services.kinesisApi.iteratorSecret.value=another-key-of-at-least-32-bytes-long']).objects;
    const checksum = (objs: Manifest[]) =>
      ofKind(objs, 'Deployment').find((d) => d.metadata.name === 'tw-tideway-kinesis-api')!.spec.template.metadata.annotations['checksum/secret'];
    expect(checksum(changed)).not.toBe(checksum(first.objects));

    // auth none: no credentials file at all, the iterator key still.
    const none = template(['-f', values, '--set', 'services.kinesisApi.auth.mode=none']).objects;
    const c = ofKind(none, 'Deployment').find((d) => d.metadata.name === 'tw-tideway-kinesis-api')!.spec.template.spec.containers[0];
    expect(c.env).toContainEqual({ name: 'KINESIS_API_AUTH', value: 'none' });
    expect(c.env.map((e: { name: string }) => e.name)).not.toContain('KINESIS_API_CREDENTIALS_FILE');
    expect(Object.keys(ofKind(none, 'Secret')[0].data ?? {})).toEqual(['iterator-secret']);
  });

  test('the Grafana dashboards ship as ConfigMaps, identical to deploy/grafana/dashboards', () => {
    const { objects } = template(['--set', 'dashboards.enabled=true']);
    const files = readdirSync(join(GRAFANA_DIR, 'dashboards'))
      .filter((f) => f.endsWith('.json'))
      .sort();
    expect(files.length).toBeGreaterThanOrEqual(6);
    const shipped = ofKind(objects, 'ConfigMap').filter((c) => c.metadata.labels?.grafana_dashboard === '1');
    const byFile = new Map(shipped.flatMap((c) => Object.entries(c.data ?? {})));
    expect([...byFile.keys()].sort()).toEqual(files);
    for (const f of files) expect(JSON.parse(byFile.get(f)!)).toEqual(JSON.parse(readFileSync(join(GRAFANA_DIR, 'dashboards', f), 'utf8')));
  });

  test('NOTES.txt says what was installed and warns when a monitor was asked for but its CRD is missing', () => {
    // `helm template` skips NOTES.txt and `helm install --dry-run` needs a cluster: render it in a
    // copy of the chart, as a ConfigMap whose one value is the NOTES template's output.
    const copy = join(mkdtempSync(join(tmpdir(), 'tideway-notes-')), 'tideway');
    cpSync(CHART_DIR, copy, { recursive: true, dereference: true });
    const notes = readFileSync(join(copy, 'templates', 'NOTES.txt'), 'utf8');
    rmSync(join(copy, 'templates', 'NOTES.txt'));
    writeFileSync(
      join(copy, 'templates', 'notes-check.yaml'),
      `{{- define "notes-check" }}${notes}{{- end }}\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: notes}\ndata:\n  notes: {{ include "notes-check" . | quote }}\n`,
    );
    const render = (args: string[]) =>
      (
        parse(
          runOk(helm, [
            'template',
            'tw',
            copy,
            '--namespace',
            'etl',
            '--kube-version',
            KUBE_VERSION,
            '-f',
            MINIMAL_VALUES,
            '--show-only',
            'templates/notes-check.yaml',
            ...args,
          ]),
        ) as Manifest
      ).data!.notes;
    const missing = render(['--set', 'metrics.serviceMonitor.enabled=true', '--set', 'services.bridge.enabled=false']);
    expect(missing).toContain('deployment/tw-tideway-cdc');
    expect(missing).toMatch(/bridge\s+disabled/);
    expect(missing).toContain('WARNING: metrics.serviceMonitor.enabled is true but this cluster does not serve');
    expect(missing).toMatch(/kinesis-api\s+disabled/);
    const api = render([
      '--set',
      'services.kinesisApi.enabled=true',
      '--set',
      'services.kinesisApi.auth.mode=none',
      '--set',
      'services.kinesisApi.iteratorSecret.existingSecret=k',
    ]);
    expect(api).toMatch(/kinesis-api\s+enabled/);
    expect(api).toContain('AWS_ENDPOINT_URL_KINESIS=http://tw-tideway-kinesis-api.etl.svc:4566');
    const served = render(['--set', 'metrics.serviceMonitor.enabled=true', ...withCrds]);
    expect(served).toContain('A ServiceMonitor scrapes every service');
    expect(served).not.toContain('WARNING');
  });
});

test('helm package stores the linked dashboards and rules in the chart archive, and the archive renders them', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tideway-package-'));
  runOk(helm, ['package', CHART_DIR, '-d', dir]);
  const archive = join(
    dir,
    readdirSync(dir).find((f) => f.endsWith('.tgz'))!,
  );
  const out = runOk(helm, [
    'template',
    'tw',
    archive,
    '--kube-version',
    KUBE_VERSION,
    '-f',
    MINIMAL_VALUES,
    '--set',
    'dashboards.enabled=true',
    '--set',
    'metrics.prometheusRule.enabled=true',
    ...withCrds,
  ]);
  const objects = parseAllDocuments(out).map((d) => d.toJS() as Manifest);
  expect(objects.filter((o) => o.kind === 'ConfigMap' && o.metadata.labels?.grafana_dashboard === '1')).toHaveLength(6);
  expect(ofKind(objects, 'PrometheusRule')).toHaveLength(1);
  rmSync(dir, { recursive: true, force: true });
});

describe('values.schema.json and template guards reject bad values with the offending key', () => {
  test.each([
    ['services.cdc.replicas=2', /services\.cdc\.replicas|cdc.*replicas/],
    ['services.cdc.replica=1', /replica/],
    ['kafka.brokers=not a broker list', /kafka\.brokers|brokers/],
    ['kafka.sasl.mechanism=scram-sha-512', /existingSecret/],
    ['services.dwhLoader.keda.enabled=true', /topic/],
    ['image.pullPolicy=Sometimes', /pullPolicy/],
    ['services.kinesisApi.auth.mode=iam', /kinesisApi\.auth\.mode|mode/],
    ['services.kinesisApi.iteratorSecret.value=too-short', /iteratorSecret/],
    ['services.kinesisApi.port=0', /kinesisApi\.port|port/],
  ])('--set %s', (setting, message) => {
    const r = run(helm, ['template', 'tw', CHART_DIR, '--kube-version', KUBE_VERSION, '-f', MINIMAL_VALUES, ...withCrds, '--set', setting]);
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(message);
  });

  test.each([
    ['cdc', 'services.cdc: CDC_DATABASE_URL is required: set services.cdc.secretEnv.CDC_DATABASE_URL'],
    ['dwhLoader', 'services.dwhLoader: DWH_DATABASE_URL is required'],
    ['alerting', 'services.alerting: the rules file is required: set services.alerting.config.content'],
    ['bridge', 'services.bridge: the routes file is required: set services.bridge.config.content'],
  ])('without its required setting, %s refuses to render and says which value to set', (key, message) => {
    const others = ['cdc', 'dwhLoader', 'alerting', 'bridge'].filter((k) => k !== key).flatMap((k) => ['--set', `services.${k}.enabled=false`]);
    const r = run(helm, ['template', 'tw', CHART_DIR, '--kube-version', KUBE_VERSION, ...others]);
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain(message);
    // Given through another route (a Secret of every service), it renders.
    const given =
      key === 'cdc' || key === 'dwhLoader'
        ? [
            '--set',
            `commonSecretEnv.${key === 'cdc' ? 'CDC' : 'DWH'}_DATABASE_URL.name=s`,
            '--set',
            `commonSecretEnv.${key === 'cdc' ? 'CDC' : 'DWH'}_DATABASE_URL.key=url`,
          ]
        : ['--set', `services.${key}.config.content=x: 1`];
    expect(run(helm, ['template', 'tw', CHART_DIR, '--kube-version', KUBE_VERSION, ...others, ...given]).status).toBe(0);
  });

  test.each([
    [
      'credentials file',
      ['--set', 'services.kinesisApi.iteratorSecret.existingSecret=k'],
      'services.kinesisApi: the credentials file is required with auth.mode sigv4: set services.kinesisApi.auth.credentials.existingSecret',
    ],
    [
      'iterator key',
      ['--set', 'services.kinesisApi.auth.credentials.existingSecret=c'],
      'services.kinesisApi: the shard iterator key is required (every replica must share it): set services.kinesisApi.iteratorSecret.existingSecret',
    ],
  ])('kinesis-api without its %s refuses to render and says which value to set', (_what, given, message) => {
    const r = run(helm, [
      'template',
      'tw',
      CHART_DIR,
      '--kube-version',
      KUBE_VERSION,
      '-f',
      MINIMAL_VALUES,
      '--set',
      'services.kinesisApi.enabled=true',
      ...given,
    ]);
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain(message);
  });

  test('hpa and keda on the same service are refused', () => {
    const r = run(helm, [
      'template',
      'tw',
      CHART_DIR,
      '--kube-version',
      KUBE_VERSION,
      '-f',
      MINIMAL_VALUES,
      '--set',
      'services.bridge.hpa.enabled=true',
      '--set',
      'services.bridge.keda.enabled=true',
      '--set',
      'services.bridge.keda.topic=t',
    ]);
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain('services.bridge: enable either hpa or keda, not both');
  });
});
