/**
 * read_committed consumption when a fetch starts inside two aborted transactions — the case
 * kafkajs 2.2.4 gets wrong without patches/kafkajs+2.2.4.patch (it lets the second transaction's
 * records through). The alerting service resumes mid-way through aborted transactions after
 * every SIGKILL, so exactly-once depends on this.
 */
import pino from 'pino';
import { createKafkaClient, KAFKA_CLIENTS } from '../../src/kafka/client';
import type { IncomingMessage } from '../../src/kafka/types';
import { uniqueName } from '../../../../test-support/stack';

describe.each(KAFKA_CLIENTS)('KAFKA_CLIENT=%s', (kafkaClient) => {
  const client = createKafkaClient(
    {
      kafkaClient,
      kafkaBrokers: (process.env.KAFKA_BROKERS ?? '127.0.0.1:9092').split(','),
      kafkaClientId: 'runtime-test',
      kafkaSaslMechanism: 'none',
      kafkaTls: false,
      kafkaConnectionTimeoutMs: 10_000,
    },
    pino({ level: 'silent' }),
  );

  test('a fetch starting after two aborted transactions began returns none of their records', async () => {
    const topic = uniqueName('runtime-rc');
    const admin = client.admin();
    await admin.connect();
    const producers = [client.producer({ transactionalId: `${topic}-a` }), client.producer({ transactionalId: `${topic}-b` }), client.producer()];
    let consumer: ReturnType<typeof client.consumer> | undefined;
    try {
      consumer = client.consumer({ groupId: `${topic}-reader`, readCommitted: true, fromBeginning: false, maxWaitTimeMs: 100 });
      const reader = consumer;
      await admin.ensureTopics([{ topic, partitions: 1 }]);
      for (const p of producers) await p.connect();
      const [a, b, plain] = producers;
      const ta = await a.transaction();
      const tb = await b.transaction();
      const rec = (value: string) => [{ topic, partition: 0, key: value, value }];
      // Offsets 0..3: a1, b1, b2, a2 — reading from 2 starts inside both transactions, on a record of the second.
      await ta.send(rec('a1'));
      await tb.send(rec('b1'));
      await tb.send(rec('b2'));
      await ta.send(rec('a2'));
      await ta.abort();
      await tb.abort();
      await plain.send(rec('committed'));

      const seen: IncomingMessage[] = [];
      await reader.connect();
      await reader.subscribe([topic]);
      // Reading starts at the end (fromBeginning: false) until the seek, so no fetch ever starts at 0.
      reader.onAssignment(() => reader.seek({ topic, partition: 0, offset: '2' }));
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`saw ${seen.map((m) => m.value?.toString()).join(',')}`)), 45_000);
        void reader.run(async (batch) => {
          seen.push(...batch.messages);
          if (seen.some((m) => m.value?.toString() === 'committed')) {
            clearTimeout(timer);
            resolve();
          }
        });
      });
      expect(seen.map((m) => m.value?.toString())).toEqual(['committed']);
      expect(seen[0].offset).not.toBe('2');
    } finally {
      await consumer?.disconnect().catch(() => undefined);
      for (const p of producers) await p.disconnect().catch(() => undefined);
      await admin.deleteTopics([topic]).catch(() => undefined);
      await admin.disconnect();
    }
  }, 90_000);
});
