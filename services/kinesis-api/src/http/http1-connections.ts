/**
 * The HTTP/1.1 connections of the API port. They are handed to an `http.Server` that does not
 * listen itself (the port's listener tells HTTP/1.1 from HTTP/2), so Node's own idle-connection
 * tracking does not see them: a client's idle keep-alive connection would hold the listener open
 * until the keep-alive timeout. Stopping closes the idle ones at once and every other one as soon
 * as its response is sent.
 */
import type { Socket } from 'node:net';

export class Http1Connections {
  /** Requests in progress per connection. */
  private readonly requests = new Map<Socket, number>();
  private stopping = false;

  add(socket: Socket): void {
    this.requests.set(socket, 0);
    socket.once('close', () => this.requests.delete(socket));
  }

  /** A request started on `socket`; false when the server is stopping (the response should close the connection). */
  requestStarted(socket: Socket): boolean {
    this.requests.set(socket, (this.requests.get(socket) ?? 0) + 1);
    return !this.stopping;
  }

  requestEnded(socket: Socket): void {
    const left = Math.max(0, (this.requests.get(socket) ?? 1) - 1);
    this.requests.set(socket, left);
    if (this.stopping && left === 0) socket.destroy();
  }

  /** From now on, a connection closes when it has no request in progress. */
  stop(): void {
    this.stopping = true;
    for (const [socket, n] of this.requests) if (n === 0) socket.destroy();
  }

  get open(): number {
    return this.requests.size;
  }
}
