import { connect, createServer, type Server, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTcpProxy, type TcpProxy } from './tcp-proxy.ts';

/** Connects, sends `text`, resolves with the echo (or rejects with the socket error). */
function roundTrip(port: number, text: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect({ port, host: '127.0.0.1' }, () => socket.write(text));
    socket.once('data', (data) => {
      resolve(data.toString());
      socket.end();
    });
    socket.once('error', reject);
  });
}

describe('startTcpProxy', () => {
  let echo: Server;
  let proxy: TcpProxy;

  beforeAll(async () => {
    echo = createServer((socket) => {
      socket.on('error', () => {}); // the proxy resets its upstream side on cut()
      socket.pipe(socket);
    });
    await new Promise<void>((resolve) => echo.listen(0, '127.0.0.1', resolve));
    proxy = await startTcpProxy({
      targetHost: '127.0.0.1',
      targetPort: (echo.address() as { port: number }).port,
    });
  });
  afterAll(async () => {
    await proxy.close();
    await new Promise((resolve) => echo.close(resolve));
  });

  it('passes bytes both ways', async () => {
    expect(await roundTrip(proxy.port, 'hello')).toBe('hello');
    expect(proxy.stats().accepted).toBeGreaterThanOrEqual(1);
  });

  it('cut() drops open connections and refuses new ones; restore() accepts again on the same port', async () => {
    const open: Socket = connect({ port: proxy.port, host: '127.0.0.1' });
    await new Promise((resolve) => open.once('connect', resolve));
    const closed = new Promise<void>((resolve) => open.once('close', () => resolve()));
    open.on('error', () => {});
    await new Promise((resolve) => setTimeout(resolve, 20));

    await proxy.cut();
    await closed;
    await expect(roundTrip(proxy.port, 'x')).rejects.toMatchObject({ code: 'ECONNREFUSED' });

    await proxy.restore();
    expect(await roundTrip(proxy.port, 'back')).toBe('back');
    expect(proxy.stats().cuts).toBe(1);
  });
});
