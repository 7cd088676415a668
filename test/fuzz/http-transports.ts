/**
 * Three ways to send a generated request: through `app.request` (no server), over a listening server with
 * node:http (Node's parser, the `limit` middleware's Content-Length path, chunked bodies), and as raw bytes on a
 * socket (framing node:http would refuse to send: Content-Length mismatches, duplicates, both framings).
 * @module
 */
import { type Agent, METHODS, request } from 'node:http';
import { connect } from 'node:net';
import type { FuzzResponse } from './http-oracle.ts';
import type { WireRequest } from './http-requests.ts';

interface Fetcher {
  request(path: string, init: RequestInit): Response | Promise<Response>;
}

/** Through the Hono app in process (`app.request`). */
export async function viaApp(app: Fetcher, wire: WireRequest): Promise<FuzzResponse> {
  const headers = new Headers();
  for (const [name, value] of wire.headers) headers.append(name, value);
  const res = await app.request(wire.path, {
    method: wire.method,
    headers,
    ...(wire.body === undefined ? {} : { body: wire.body }),
  });
  const text = await res.text();
  return { status: res.status, headers: Object.fromEntries(res.headers), text };
}

/** A method Node's HTTP parser knows (it answers others with a bare 400 before any application code). */
export function nodeMethod(method: string): string {
  const upper = method.toUpperCase();
  return METHODS.includes(upper) && upper !== 'CONNECT' ? upper : 'PURGE';
}

/** The request target node:http will send: what the URL parser makes of the path (as `app.request` does). */
export function nodePath(path: string): string {
  const url = new URL(`http://localhost${path.startsWith('/') ? path : `/${path}`}`);
  return url.pathname + url.search;
}

/** Over a listening server with node:http: a Content-Length body, or chunked in two pieces. */
export function viaNode(
  port: number,
  agent: Agent,
  wire: WireRequest,
  framing: 'length' | 'chunked',
): Promise<FuzzResponse> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string | string[]> = {};
    // Explicit framing: node:http sends a GET/DELETE/OPTIONS body with neither header otherwise.
    if (wire.body !== undefined) {
      if (framing === 'length') headers['content-length'] = String(wire.body.length);
      else headers['transfer-encoding'] = 'chunked';
    }
    for (const [name, value] of wire.headers) {
      const had = headers[name];
      headers[name] = had === undefined ? value : [...(Array.isArray(had) ? had : [had]), value];
    }
    const req = request(
      {
        host: '127.0.0.1',
        port,
        agent,
        method: nodeMethod(wire.method),
        path: nodePath(wire.path),
        headers,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => {
          const flat: Record<string, string> = {};
          for (const [name, value] of Object.entries(res.headers)) {
            if (value !== undefined) flat[name] = Array.isArray(value) ? value.join(', ') : value;
          }
          resolve({
            status: res.statusCode ?? 0,
            headers: flat,
            text: Buffer.concat(chunks).toString('utf8'),
          });
        });
        res.on('error', reject);
      },
    );
    // A server that answers early (413 on the declared length) may close while the body is still being written.
    let answered = false;
    req.on('response', () => {
      answered = true;
    });
    req.on('error', (error) => {
      if (!answered) reject(error);
    });
    const body = wire.body;
    if (body === undefined) {
      req.end();
    } else if (framing === 'length') {
      req.end(Buffer.from(body));
    } else {
      const half = Math.floor(body.length / 2);
      req.write(Buffer.from(body.subarray(0, half)));
      req.end(Buffer.from(body.subarray(half)));
    }
  });
}

/** One raw exchange on a fresh socket: writes `bytes`, half-closes unless told not to, reads until the server closes. */
export function viaSocket(
  port: number,
  bytes: Buffer,
  { halfClose = true, timeoutMs = 5_000 }: { halfClose?: boolean; timeoutMs?: number } = {},
): Promise<{ responses: FuzzResponse[]; raw: string; timedOut: boolean }> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      socket.destroy();
    }, timeoutMs);
    socket.on('data', (chunk) => chunks.push(chunk));
    socket.on('error', () => {});
    socket.on('close', () => {
      clearTimeout(timer);
      const raw = Buffer.concat(chunks).toString('latin1');
      resolve({ responses: parseResponses(raw), raw, timedOut });
    });
    socket.write(bytes, () => {
      if (halfClose) socket.end();
    });
  });
}

/** Splits what a server wrote into HTTP/1.1 responses (Content-Length or chunked bodies; 1xx skipped). */
export function parseResponses(raw: string): FuzzResponse[] {
  const responses: FuzzResponse[] = [];
  let rest = raw;
  while (rest.startsWith('HTTP/1.')) {
    const end = rest.indexOf('\r\n\r\n');
    if (end < 0) break;
    const [statusLine = '', ...lines] = rest.slice(0, end).split('\r\n');
    const status = Number(statusLine.split(' ')[1]);
    const headers: Record<string, string> = {};
    for (const line of lines) {
      const colon = line.indexOf(':');
      const name = line.slice(0, colon).trim().toLowerCase();
      const value = line.slice(colon + 1).trim();
      headers[name] = headers[name] === undefined ? value : `${headers[name]}, ${value}`;
    }
    rest = rest.slice(end + 4);
    let body = '';
    if (status >= 100 && status < 200) {
      continue;
    } else if (headers['transfer-encoding']?.includes('chunked')) {
      for (;;) {
        const lineEnd = rest.indexOf('\r\n');
        const size = Number.parseInt(rest.slice(0, lineEnd), 16);
        if (lineEnd < 0 || !Number.isFinite(size)) break;
        rest = rest.slice(lineEnd + 2);
        if (size === 0) {
          rest = rest.slice(rest.indexOf('\r\n') + 2);
          break;
        }
        body += rest.slice(0, size);
        rest = rest.slice(size + 2);
      }
    } else {
      const length = Number(headers['content-length'] ?? 0);
      body = rest.slice(0, length);
      rest = rest.slice(length);
    }
    responses.push({ status, headers, text: Buffer.from(body, 'latin1').toString('utf8') });
  }
  return responses;
}
