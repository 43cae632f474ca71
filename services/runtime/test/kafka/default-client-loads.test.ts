/**
 * The default client never loads kafkajs: a process that loads the runtime and builds the default
 * client has no kafkajs module in its require cache (and one built with KAFKA_CLIENT=kafkajs has).
 */
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';

const runtime = join(__dirname, '../../dist/index.js');

function kafkajsModulesLoaded(kafkaClient: string): number {
  const script = `
    const rt = require(${JSON.stringify(runtime)});
    rt.createKafkaClient({ kafkaClient: ${JSON.stringify(kafkaClient)}, kafkaBrokers: ['127.0.0.1:9'], kafkaClientId: 't', kafkaSaslMechanism: 'none', kafkaTls: false, kafkaConnectionTimeoutMs: 1000 }, rt.createLogger('t', 'silent'));
    console.log(Object.keys(require.cache).filter((k) => k.includes('/node_modules/kafkajs/')).length);`;
  return Number(execFileSync(process.execPath, ['-e', script], { encoding: 'utf8' }).trim());
}

describe('which Kafka library a process loads', () => {
  it('the default client (confluent) loads no kafkajs module', () => {
    expect(kafkajsModulesLoaded('confluent')).toBe(0);
  });
  it('KAFKA_CLIENT=kafkajs does load it (the check can see it)', () => {
    expect(kafkajsModulesLoaded('kafkajs')).toBeGreaterThan(0);
  });
});
