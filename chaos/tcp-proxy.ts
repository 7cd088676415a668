/**
 * A TCP proxy the chaos harness puts between the function processes and PostgreSQL, so it can take the
 * database away without touching the (shared) server: `cut()` drops every open connection and stops
 * listening (new connections are refused), `restore()` listens again on the same port.
 * @module
 */
import { createServer, type Server, type Socket, connect as tcpConnect } from 'node:net';

export interface TcpProxyOptions {
  targetHost: string;
  targetPort: number;
  /** Listen here (127.0.0.1); 0 = any free port. */
  port?: number;
}

export interface TcpProxy {
  readonly port: number;
  /** Connections open now, and accepted since the start. */
  stats(): { open: number; accepted: number; cuts: number };
  /** Drops every connection (RST) and refuses new ones until `restore()`. */
  cut(): Promise<void>;
  restore(): Promise<void>;
  close(): Promise<void>;
}

/** @example const proxy = await startTcpProxy({ targetHost: '127.0.0.1', targetPort: 5432 }); */
export async function startTcpProxy(options: TcpProxyOptions): Promise<TcpProxy> {
  const open = new Set<Socket>();
  let accepted = 0;
  let cuts = 0;
  let server: Server | undefined;

  const onConnection = (client: Socket) => {
    accepted += 1;
    const upstream = tcpConnect({ host: options.targetHost, port: options.targetPort });
    for (const socket of [client, upstream]) {
      open.add(socket);
      socket.setNoDelay(true);
      socket.on('error', () => {});
      socket.on('close', () => {
        open.delete(socket);
        // One side gone: reset the other, as a broken network path would.
        (socket === client ? upstream : client).destroy();
      });
    }
    client.pipe(upstream);
    upstream.pipe(client);
  };

  const listen = (port: number) =>
    new Promise<number>((resolve, reject) => {
      const s = createServer(onConnection);
      s.once('error', reject);
      s.listen(port, '127.0.0.1', () => {
        s.off('error', reject);
        server = s;
        resolve((s.address() as { port: number }).port);
      });
    });

  const stopListening = async () => {
    const s = server;
    server = undefined;
    if (s === undefined) return;
    const closed = new Promise<void>((resolve) => s.close(() => resolve()));
    for (const socket of open) socket.resetAndDestroy();
    await closed;
  };

  const port = await listen(options.port ?? 0);
  return {
    port,
    stats: () => ({ open: open.size / 2, accepted, cuts }),
    async cut() {
      cuts += 1;
      await stopListening();
    },
    async restore() {
      if (server === undefined) await listen(port);
    },
    async close() {
      await stopListening();
    },
  };
}
