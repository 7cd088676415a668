/**
 * TCP front end: frame splitting, request header v1 parsing, strictly serial processing per
 * connection, dispatch to {@link ApiDefinition}s and response framing (spec §2).
 * @module
 */
import { createServer, type Server, type Socket } from 'node:net';
import type { ApiDefinition, BrokerLogger } from './api.ts';
import { ApiKey, ErrorCode } from './api.ts';
import { encodeApiVersions } from './apis/api-versions.ts';
import { Connection } from './connection.ts';
import { ProtocolError, Reader } from './protocol/reader.ts';

/** Options for {@link BrokerServer.listen}. */
export interface ServerOptions {
  host: string;
  port: number;
  maxFrameBytes: number;
  logger: BrokerLogger;
  apis: readonly ApiDefinition[];
}

/** The listening socket and its connections. */
export class BrokerServer {
  private readonly connections = new Set<Connection>();
  private readonly apis = new Map<number, ApiDefinition>();
  private nextConnectionId = 1;

  private constructor(
    private readonly server: Server,
    private readonly options: ServerOptions,
  ) {
    for (const api of options.apis) this.apis.set(api.key, api);
  }

  /** Starts listening; resolves once bound. */
  static async listen(options: ServerOptions): Promise<BrokerServer> {
    const server = createServer({ noDelay: true });
    const broker = new BrokerServer(server, options);
    server.on('connection', (socket) => broker.accept(socket));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(options.port, options.host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    server.on('error', (err) => options.logger.error('server error', { err: String(err) }));
    return broker;
  }

  /** The bound port (the real one when listening on port 0). */
  get port(): number {
    const address = this.server.address();
    if (address === null || typeof address === 'string') throw new Error('server is not listening');
    return address.port;
  }

  private accept(socket: Socket): void {
    const conn = new Connection(socket, this.nextConnectionId++, this.options, (frame) =>
      this.handle(conn, frame),
    );
    this.connections.add(conn);
    conn.onClose(() => this.connections.delete(conn));
  }

  private async handle(conn: Connection, frame: Buffer): Promise<void> {
    const { logger } = this.options;
    const r = new Reader(frame);
    let apiKey = -1;
    let apiVersion = -1;
    try {
      apiKey = r.int16();
      apiVersion = r.int16();
      const correlationId = r.int32();
      if (apiKey === ApiKey.ApiVersions && apiVersion > 2) {
        // librdkafka opens with ApiVersions v3 (flexible header). Answer in the v0 layout with
        // UNSUPPORTED_VERSION so it retries with v0 (spec §4.1); the response header is v0 either way.
        const list = [...this.apis.values()];
        conn.send(correlationId, encodeApiVersions(list, 0, ErrorCode.UNSUPPORTED_VERSION));
        return;
      }
      const clientId = r.nullableString();
      const api = this.apis.get(apiKey);
      if (!api || apiVersion < api.minVersion || apiVersion > api.maxVersion) {
        logger.warn('unsupported api key/version, closing connection', {
          connectionId: conn.id,
          apiKey,
          apiVersion,
          clientId,
        });
        conn.destroy();
        return;
      }
      const { ctx, release } = conn.context(apiKey, apiVersion, correlationId, clientId);
      try {
        const result = await api.handle(ctx, r);
        if (result !== null) await conn.sendAndDrain(correlationId, result);
      } finally {
        release();
      }
    } catch (err) {
      const fields = { connectionId: conn.id, apiKey, apiVersion, err: String(err) };
      if (err instanceof ProtocolError) logger.warn('malformed request, closing connection', fields);
      else logger.error('request handler failed, closing connection', fields);
      conn.destroy();
    }
  }

  /** Stops accepting, destroys every connection (which cancels parked requests). */
  async close(): Promise<void> {
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    for (const conn of [...this.connections]) conn.destroy();
    await closed;
  }
}
