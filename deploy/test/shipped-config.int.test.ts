/**
 * The rules and routes files that docker-compose.yml mounts (and that `npm run demo`
 * generates) are accepted by the services' own parsers: a typo there would only show when a
 * user runs `docker compose up`, which cannot run here.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { parseRuleFile } from '../../services/alerting/src/rules/rule-file';
import { parseRoutesText } from '../../bridge/src/routes';
import { bridgeRoutes, fraudRules, planFor } from '../../services/demo/src/pipeline/pipeline-plan';
import { REPO_ROOT } from './tools';

const COMPOSE_DIR = join(REPO_ROOT, 'deploy', 'compose', 'tideway');
const routeOptions = { resolveTransform: (p: string) => join(REPO_ROOT, p), s3CustomEndpoint: true };

test('compose: the fraud rules parse and compile (CEL) with the alerting service’s parser', () => {
  const file = join(COMPOSE_DIR, 'fraud-rules.yaml');
  const set = parseRuleFile(readFileSync(file, 'utf8'), file);
  expect(set.rules.map((r) => r.id)).toEqual(['amount-over-threshold', 'country-mismatch', 'night-hours']);
});

test('compose: the bridge routes parse with the bridge’s parser, one per destination kind', () => {
  const file = join(COMPOSE_DIR, 'routes.yaml');
  const routes = parseRoutesText(readFileSync(file, 'utf8'), file, routeOptions);
  expect(routes.map((r) => r.destination.type).sort()).toEqual(['firehose', 'kinesis', 's3']);
});

test('npm run demo: the generated rules and routes parse too', () => {
  const plan = planFor('check1');
  expect(parseRuleFile(stringify(fraudRules(plan)), 'demo-rules.yaml').rules).toHaveLength(3);
  expect(parseRoutesText(stringify(bridgeRoutes(plan)), 'demo-routes.yaml', routeOptions)).toHaveLength(3);
});
