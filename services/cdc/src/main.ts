/** `tideway cdc`: PostgreSQL logical replication (pgoutput) into Kafka change topics. */
import { runService, type ServiceDefinition } from '@tideway/runtime';
import { CdcCapture } from './capture';
import { cdcSettings } from './config';
import { CdcMetrics } from './metrics';

export const definition: ServiceDefinition<typeof cdcSettings> = {
  name: 'cdc',
  summary: 'capture PostgreSQL changes (logical replication, pgoutput) into Kafka change topics, ordered per key, at least once',
  settings: cdcSettings,
  async start(ctx) {
    const metrics = new CdcMetrics(ctx.registry);
    const producer = ctx.kafka.producer({ idempotent: true });
    const capture = new CdcCapture(ctx, producer, ctx.kafka.admin(), metrics);
    capture.start();
    return { stop: () => capture.stop() };
  },
};

export function main(argv: string[]): Promise<never> {
  return runService(definition, argv);
}
