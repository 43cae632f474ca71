/**
 * A PostgreSQL replication connection (`replication=database`) over the `pg` client: replication
 * commands, then CopyBoth streaming with socket-level pausing for backpressure and standby
 * status updates for acknowledgement.
 */
import { Client } from 'pg';
import type { Socket } from 'node:net';
import { formatLsn, parseLsn, type Lsn } from './lsn';
import { encodeStandbyStatus } from './replication-protocol';
import { quoteIdent, quoteLiteral } from './sql';
import { SESSION_OPTIONS } from './value-codec';

/** The parts of pg's Connection this module uses (not in @types/pg). */
interface WireConnection {
  stream: Socket;
  on(event: 'copyData', listener: (msg: { chunk: Buffer }) => void): void;
  sendCopyFromChunk(chunk: Buffer): void;
}

export interface CreatedSlot {
  consistentPoint: Lsn;
  /** Exported snapshot name; valid until the next command on this connection. */
  snapshotName: string | null;
}

export interface StreamHandlers {
  onData(payload: Buffer): void;
  /** The stream ended: an error, or the server closed it. */
  onEnd(err: Error | undefined): void;
}

export function openClient(databaseUrl: string, replication: boolean): Client {
  return new Client({
    connectionString: databaseUrl,
    options: SESSION_OPTIONS,
    application_name: replication ? 'tideway-cdc' : 'tideway-cdc-meta',
    // Values reach the codecs as text, exactly as pgoutput sends them.
    types: { getTypeParser: () => (v: string) => v },
    ...(replication ? { replication: 'database' } : {}),
  } as ConstructorParameters<typeof Client>[0]);
}

export class ReplicationConnection {
  private streaming = false;
  private ended = false;

  private constructor(private readonly client: Client) {}

  static async open(databaseUrl: string): Promise<ReplicationConnection> {
    const client = openClient(databaseUrl, true);
    // Errors after connect surface through the streaming query or onEnd; never crash the process.
    client.on('error', () => undefined);
    await client.connect();
    return new ReplicationConnection(client);
  }

  private get wire(): WireConnection {
    return (this.client as unknown as { connection: WireConnection }).connection;
  }

  async createSlot(slot: string, exportSnapshot: boolean): Promise<CreatedSlot> {
    const res = await this.client.query<{ consistent_point: string; snapshot_name: string | null }>(
      `CREATE_REPLICATION_SLOT ${quoteIdent(slot)} LOGICAL pgoutput (SNAPSHOT ${exportSnapshot ? "'export'" : "'nothing'"})`,
    );
    return { consistentPoint: parseLsn(res.rows[0].consistent_point), snapshotName: res.rows[0].snapshot_name };
  }

  /**
   * START_REPLICATION from the slot's confirmed position (0/0 lets the server choose). Data
   * arrives through `handlers.onData`, in order, one CopyData payload at a time.
   */
  start(slot: string, publication: string, handlers: StreamHandlers, startLsn: Lsn = 0n): void {
    this.streaming = true;
    const finish = (err: Error | undefined) => {
      if (this.ended) return;
      this.ended = true;
      handlers.onEnd(err);
    };
    // pg reuses its read buffer for the next socket chunk: keep a copy of what is queued.
    this.wire.on('copyData', (msg) => handlers.onData(Buffer.from(msg.chunk)));
    this.client.on('end', () => finish(new Error('replication connection closed')));
    this.client.on('error', (err) => finish(err));
    const options = `proto_version '1', publication_names ${quoteLiteral(quoteIdent(publication))}`;
    this.client.query(`START_REPLICATION SLOT ${quoteIdent(slot)} LOGICAL ${formatLsn(startLsn)} (${options})`).then(
      () => finish(new Error('replication stream ended by the server')),
      (err: Error) => finish(err),
    );
  }

  pause(): void {
    this.wire.stream.pause();
  }

  resume(): void {
    this.wire.stream.resume();
  }

  /** Confirms `flush` as safely stored; `replyRequested` asks the server for a keepalive back. */
  sendStatus(flush: Lsn, replyRequested: boolean): void {
    if (!this.streaming || this.ended) return;
    this.wire.sendCopyFromChunk(encodeStandbyStatus(flush, Date.now(), replyRequested));
  }

  async close(): Promise<void> {
    this.ended = true;
    const c = this.client;
    // end() waits for the server; during CopyBoth it may not answer, so destroy the socket too.
    // The socket is destroyed below whatever end() says: its failure changes nothing.
    const done = c.end().catch(() => undefined);
    setTimeout(() => this.wire.stream.destroy(), 1_000).unref();
    await done;
  }
}
