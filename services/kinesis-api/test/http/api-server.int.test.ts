/**
 * Stopping the API server: a client's idle keep-alive HTTP/1.1 connection (as boto3 and the aws CLI
 * keep between calls) is closed at once instead of holding the port until its keep-alive timeout.
 */
import { request, Agent } from 'node:http';
import { createLogger, createRegistry } from '@tideway/runtime';
import { ApiServer } from '../../src/http/api-server';
import { KinesisApiMetrics } from '../../src/metrics';

it('closes an idle keep-alive connection when it stops', async () => {
  const server = new ApiServer({
    host: '127.0.0.1',
    port: 0,
    logger: createLogger('kinesis-api-test', 'silent'),
    metrics: new KinesisApiMetrics(createRegistry('kinesis-api')),
    nowMs: () => Date.now(),
    context: () => {
      throw new Error('no operation is served in this test');
    },
  });
  const port = await server.listen();
  const agent = new Agent({ keepAlive: true });
  // An unserved path is answered (the AWS error shape) without any operation's context.
  const status = await new Promise<number>((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path: '/', method: 'GET', agent }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', reject);
    req.end();
  });
  expect(status).toBe(400);
  const idle = Object.values(agent.freeSockets).flat();
  expect(idle).toHaveLength(1);
  const socketClosed = new Promise<void>((resolve) => idle[0]!.once('close', () => resolve()));
  // Without closing idle connections, this waits for the 65 s keep-alive timeout (the test's timeout is shorter).
  await server.close();
  await socketClosed;
  agent.destroy();
}, 30_000);
