/**
 * The Node HTTP server of every process (functions host, gateway): `@hono/node-server`'s request listener on a
 * `node:http` server, plus the two places where Node or the adapter would otherwise answer in a shape of their
 * own — a request the adapter cannot turn into a `Request` (an unusable Host header: `Host: a b`, `[::1`,
 * `x:99999`) and a request Node's parser rejects (bad framing, oversized headers, a timeout). Both get the one
 * JSON error body with a request id, like every other error.
 * @module
 */
import { randomUUID } from 'node:crypto';
import { createServer, type Server, STATUS_CODES } from 'node:http';
import type { Duplex } from 'node:stream';
import { getRequestListener } from '@hono/node-server';
import type { ErrorBody } from './errors.ts';
import { REQUEST_ID_HEADER } from './request-context.ts';

export interface ListenOptions {
  fetch: (request: Request, env: unknown) => Response | Promise<Response>;
  port: number;
  hostname: string;
}

/** Listens on `hostname:port` (0 = any free port); resolves once listening, with the port. */
export async function listen(options: ListenOptions): Promise<{ server: Server; port: number }> {
  const listener = getRequestListener(options.fetch, {
    errorHandler: () => problem(400, 'bad_request', 'Malformed request (unusable Host header or URL)'),
  });
  const server = createServer(listener);
  // Node answers `Expect: 100-continue` itself and any other expectation with a bare 417: hand it to the app.
  server.on('checkExpectation', listener);
  server.on('clientError', answerClientError);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.hostname, () => {
      server.off('error', reject);
      resolve();
    });
  });
  return { server, port: (server.address() as { port: number }).port };
}

function body(code: string, message: string, requestId: string): string {
  const error: ErrorBody = { status: 'error', code, message, requestId };
  return JSON.stringify(error);
}

function problem(status: number, code: string, message: string): Response {
  const requestId = randomUUID();
  return new Response(body(code, message, requestId), {
    status,
    headers: { 'content-type': 'application/json', [REQUEST_ID_HEADER]: requestId },
  });
}

/** What Node's parser rejected, answered in the error shape (then the connection is closed, as Node does). */
function answerClientError(error: Error & { code?: string }, socket: Duplex): void {
  if (error.code === 'ECONNRESET' || !socket.writable) {
    socket.destroy();
    return;
  }
  const [status, code, message] =
    error.code === 'HPE_HEADER_OVERFLOW'
      ? [431, 'headers_too_large', 'Request headers are too large']
      : error.code === 'ERR_HTTP_REQUEST_TIMEOUT'
        ? [408, 'timeout', 'The request was not received in time']
        : [400, 'bad_request', 'Malformed HTTP request'];
  const requestId = randomUUID();
  const text = body(code, message, requestId);
  socket.end(
    `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(text)}\r\n` +
      `${REQUEST_ID_HEADER}: ${requestId}\r\nConnection: close\r\n\r\n${text}`,
  );
}
