/**
 * kafkajs's response framing as patched by patches/kafkajs+2.2.4.patch: large responses are copied
 * into one buffer of their size as they arrive. A model test: a stream of length-prefixed
 * responses of random sizes (small ones and ones far over the threshold), cut into chunks at random
 * places, must come out as the same responses, in order, whatever the cuts.
 */
import { seededRandom } from '../../src/seeded-random';

const Connection = require('kafkajs/src/network/connection') as new (options: Record<string, unknown>) => {
  processData(data: Buffer): void;
  requestQueue: { fulfillRequest(response: { size: number; correlationId: number; payload: Buffer }): void };
};

function frame(correlationId: number, payload: Buffer): Buffer {
  const head = Buffer.alloc(8);
  head.writeInt32BE(4 + payload.length, 0);
  head.writeInt32BE(correlationId, 4);
  return Buffer.concat([head, payload]);
}

function connectionCollecting(into: Array<{ correlationId: number; payload: Buffer }>) {
  const connection = new Connection({ host: '127.0.0.1', port: 9092, logger: { namespace: () => ({ debug() {}, info() {}, warn() {}, error() {} }) } });
  connection.requestQueue = { fulfillRequest: ({ correlationId, payload }) => into.push({ correlationId, payload: Buffer.from(payload) }) };
  return connection;
}

test('responses of every size come out whole and in order, however the stream is cut', () => {
  for (let seed = 1; seed <= 300; seed++) {
    const random = seededRandom(seed);
    const sent: Array<{ correlationId: number; payload: Buffer }> = [];
    const count = 1 + Math.floor(random() * 8);
    for (let i = 0; i < count; i++) {
      const large = random() < 0.4;
      const size = large ? 256 * 1024 + Math.floor(random() * 600_000) : Math.floor(random() * 3000);
      const payload = Buffer.alloc(size);
      for (let b = 0; b < size; b += 997) payload[b] = (seed + i + b) & 0xff;
      sent.push({ correlationId: seed * 100 + i, payload });
    }
    const stream = Buffer.concat(sent.map((s) => frame(s.correlationId, s.payload)));
    const received: Array<{ correlationId: number; payload: Buffer }> = [];
    const connection = connectionCollecting(received);
    for (let at = 0; at < stream.length;) {
      // Cuts from 1 byte (inside a length prefix) to whole runs of responses.
      const pick = random();
      const len = pick < 0.2 ? 1 + Math.floor(random() * 6) : pick < 0.9 ? 1 + Math.floor(random() * 65_536) : 1 + Math.floor(random() * 2_000_000);
      connection.processData(stream.subarray(at, Math.min(stream.length, at + len)));
      at += len;
    }
    expect(received.map((r) => r.correlationId)).toEqual(sent.map((s) => s.correlationId));
    for (let i = 0; i < sent.length; i++) expect(received[i].payload.equals(sent[i].payload)).toBe(true);
  }
});
