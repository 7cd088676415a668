/**
 * One client connection: splits the byte stream into frames, queues them and feeds them to the
 * request handler strictly one at a time (Kafka semantics; librdkafka pipelines Produce).
 * @module
 */
import type { Socket } from 'node:net';
import type { BrokerLogger, RequestContext } from './api.ts';

/** Stop reading from a client that has this many request bytes queued. */
const MAX_QUEUED_BYTES = 64 * 1024 * 1024;
/** Smallest frame that holds api key, version and correlation id. */
const MIN_FRAME_BYTES = 8;

/** Per-connection framing and serial request queue. */
export class Connection {
  private chunks: Buffer[] = [];
  private buffered = 0;
  private expected = -1;
  private readonly queue: Buffer[] = [];
  private queuedBytes = 0;
  private processing = false;
  private isClosed = false;
  private readonly closeCallbacks = new Set<() => void>();
  private readonly clientHost: string;

  constructor(
    private readonly socket: Socket,
    readonly id: number,
    private readonly options: { maxFrameBytes: number; logger: BrokerLogger },
    private readonly handler: (frame: Buffer) => Promise<void>,
  ) {
    this.clientHost = (socket.remoteAddress ?? '').replace(/^::ffff:/, '');
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('error', (err) => options.logger.debug('socket error', { connectionId: id, err: String(err) }));
    socket.on('close', () => this.onSocketClose());
  }

  /** True once the socket has closed. */
  get closed(): boolean {
    return this.isClosed;
  }

  /** Runs `cb` once on close (immediately if already closed); returns the unsubscribe function. */
  onClose(cb: () => void): () => void {
    if (this.isClosed) {
      cb();
      return () => {};
    }
    this.closeCallbacks.add(cb);
    return () => this.closeCallbacks.delete(cb);
  }

  /**
   * Builds the handler context for one request. Close callbacks registered through it are
   * dropped by `release()` once the request has been answered, so long-lived connections making
   * many parked requests (Fetch, JoinGroup) do not accumulate them.
   */
  context(
    apiKey: number,
    apiVersion: number,
    correlationId: number,
    clientId: string | null,
  ): { ctx: RequestContext; release: () => void } {
    const conn = this;
    const registered: Array<() => void> = [];
    const ctx: RequestContext = {
      apiKey,
      apiVersion,
      correlationId,
      clientId,
      clientHost: this.clientHost,
      connectionId: this.id,
      get closed() {
        return conn.isClosed;
      },
      onClose: (cb) => {
        registered.push(conn.onClose(cb));
      },
    };
    const release = (): void => {
      for (const unsubscribe of registered) unsubscribe();
    };
    return { ctx, release };
  }

  private onData(chunk: Buffer): void {
    this.chunks.push(chunk);
    this.buffered += chunk.length;
    for (;;) {
      if (this.expected < 0) {
        if (this.buffered < 4) return;
        const size = this.peekInt32();
        if (size < MIN_FRAME_BYTES || size > this.options.maxFrameBytes) {
          this.options.logger.warn('invalid frame size, closing connection', { connectionId: this.id, size });
          this.destroy();
          return;
        }
        this.expected = size;
      }
      if (this.buffered < 4 + this.expected) return;
      const all = this.chunks.length === 1 ? this.chunks[0]! : Buffer.concat(this.chunks, this.buffered);
      const frame = all.subarray(4, 4 + this.expected);
      const rest = all.subarray(4 + this.expected);
      this.chunks = rest.length > 0 ? [rest] : [];
      this.buffered = rest.length;
      this.expected = -1;
      this.enqueue(frame);
      if (this.isClosed) return;
    }
  }

  private peekInt32(): number {
    const first = this.chunks[0]!;
    if (first.length >= 4) return first.readInt32BE(0);
    const joined = Buffer.concat(this.chunks, this.buffered);
    this.chunks = [joined];
    return joined.readInt32BE(0);
  }

  private enqueue(frame: Buffer): void {
    this.queue.push(frame);
    this.queuedBytes += frame.length;
    if (this.queuedBytes > MAX_QUEUED_BYTES) this.socket.pause();
    void this.pump();
  }

  private async pump(): Promise<void> {
    if (this.processing) return;
    this.processing = true;
    try {
      while (this.queue.length > 0 && !this.isClosed) {
        const frame = this.queue.shift()!;
        this.queuedBytes -= frame.length;
        if (this.queuedBytes <= MAX_QUEUED_BYTES && this.socket.isPaused()) this.socket.resume();
        await this.handler(frame);
      }
    } finally {
      this.processing = false;
    }
  }

  /** Writes one response frame; ignored once closed. Returns false if the socket is backed up. */
  send(correlationId: number, body: Buffer): boolean {
    if (this.isClosed || this.socket.destroyed || !this.socket.writable) return true;
    const header = Buffer.allocUnsafe(8);
    header.writeInt32BE(4 + body.length, 0);
    header.writeInt32BE(correlationId, 4);
    this.socket.cork();
    this.socket.write(header);
    const ok = this.socket.write(body);
    this.socket.uncork();
    return ok;
  }

  /** {@link send}, then waits for the socket to drain (or close) before the next request. */
  async sendAndDrain(correlationId: number, body: Buffer): Promise<void> {
    if (this.send(correlationId, body) || this.isClosed) return;
    await new Promise<void>((resolve) => {
      const done = (): void => {
        this.socket.off('drain', done);
        unsubscribe();
        resolve();
      };
      this.socket.on('drain', done);
      const unsubscribe = this.onClose(done);
    });
  }

  /** Closes the connection at once (bad input, shutdown). */
  destroy(): void {
    this.socket.destroy();
    this.onSocketClose();
  }

  private onSocketClose(): void {
    if (this.isClosed) return;
    this.isClosed = true;
    this.queue.length = 0;
    this.queuedBytes = 0;
    const callbacks = [...this.closeCallbacks];
    this.closeCallbacks.clear();
    for (const cb of callbacks) {
      try {
        cb();
      } catch (err) {
        this.options.logger.error('close callback failed', { connectionId: this.id, err: String(err) });
      }
    }
  }
}
