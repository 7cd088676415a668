/**
 * Renders a generated request: fills the run's pool references in (order ids and Idempotency-Keys with the run's
 * prefix) and writes method, path, headers and body bytes.
 * @module
 */
import type { CreateRoute, CreateSpec, GeneratedRequest, Ref, WireRequest } from './http-requests.ts';

const enc = new TextEncoder();

/** Bytes that are not UTF-8 (a CESU-8 surrogate, a stray continuation byte, 0xFF) inside an ignored string. */
export const RAW_MARKER = '@@not-utf8@@';
const NOT_UTF8 = [0xed, 0xa0, 0x80, 0x80, 0xff, 0xc3];

/** The run's concrete values of pool references. */
export interface RunPool {
  orderId(i: number): string;
  key(i: number, route: CreateRoute): string;
}

export function runPool(prefix: string): RunPool {
  return {
    orderId: (i) => `${prefix}-o${i}`,
    // Keys are per route so the suite holds whether keys end up scoped per route or shared (issue 9, item 7).
    key: (i, route) => `${prefix}-k${i}${route === '/order' ? '-legacy' : ''}`,
  };
}

export function refValue(r: Ref, pool: (i: number) => string): string {
  return 'pool' in r ? pool(r.pool) : r.raw;
}

/** The Idempotency-Key header of a create; a valid literal key gets a per-route tag, like the pool keys. */
export function keyValue(spec: CreateSpec, pool: RunPool): string | undefined {
  const key = spec.key;
  if (key === undefined) return undefined;
  if ('pool' in key) return pool.key(key.pool, spec.route);
  return key.valid ? `${key.raw.slice(0, 250)}~fz${spec.route === '/order' ? 'L' : 'O'}` : key.raw;
}

/** The JSON text of a create body (possibly broken or padded) — without padding when `padTo` is unset. */
export function createBodyText(spec: CreateSpec, pool: RunPool): string {
  const s = spec.space;
  const fields: string[] = [];
  if (spec.order !== undefined) {
    fields.push(
      `"${spec.legacy ? 'OrderId' : 'orderId'}":${s}${JSON.stringify(refValue(spec.order, pool.orderId))}`,
    );
  }
  if (spec.amount !== undefined)
    fields.push(`"${spec.legacy ? 'Amount' : 'amount'}":${s}${spec.amount.json}`);
  if (spec.currency !== undefined) fields.push(`"currency":${s}${spec.currency.json}`);
  fields.push(...spec.junk);
  let text = `{${s}${fields.join(`,${s}`)}${s}}`;
  if (spec.padTo !== undefined) {
    const base = enc.encode(text).length + ',"pad":""'.length;
    text = `${text.slice(0, -1)}${fields.length > 0 ? ',' : ''}"pad":"${'x'.repeat(Math.max(0, spec.padTo - base))}"}`;
  }
  switch (spec.corrupt) {
    case 'none':
      return text;
    case 'truncate':
      return text.slice(0, Math.max(1, Math.floor(text.length / 2)));
    case 'trailing':
      return `${text}}`;
    case 'bom':
      return `\ufeff${text}`;
    case 'single-quotes':
      return text.replace(/"/g, "'");
    case 'empty':
      return '';
    // Valid JSON, but not an object.
    case 'array':
      return `[${text}]`;
    case 'null':
      return 'null';
    case 'string':
      return JSON.stringify(text);
    case 'number':
      return '50';
  }
}

function encodeBody(text: string): Uint8Array {
  const bytes = enc.encode(text);
  const at = text.indexOf(RAW_MARKER);
  if (at < 0) return bytes;
  const start = enc.encode(text.slice(0, at)).length;
  const out = new Uint8Array(bytes.length - RAW_MARKER.length + NOT_UTF8.length);
  out.set(bytes.subarray(0, start));
  out.set(NOT_UTF8, start);
  out.set(bytes.subarray(start + RAW_MARKER.length), start + NOT_UTF8.length);
  return out;
}

export function toWire(request: GeneratedRequest, pool: RunPool): WireRequest {
  const { spec } = request;
  const headers: [string, string][] = [...request.noise];
  switch (spec.kind) {
    case 'create': {
      if (spec.contentType.value !== undefined) headers.push(['content-type', spec.contentType.value]);
      const key = keyValue(spec, pool);
      if (key !== undefined) headers.push(['idempotency-key', key]);
      return { method: 'POST', path: spec.route, headers, body: encodeBody(createBodyText(spec, pool)) };
    }
    case 'get': {
      const id = refValue(spec.id, pool.orderId);
      const segment =
        spec.encode || 'pool' in spec.id ? encodeURIComponent(toWellFormed(id)) : toWellFormed(id);
      return { method: spec.head ? 'HEAD' : 'GET', path: `/orders/${segment}`, headers, body: undefined };
    }
    case 'probe':
      return { method: spec.head ? 'HEAD' : 'GET', path: spec.path, headers, body: undefined };
    case 'wrong-method':
    case 'unknown-path':
      return { method: spec.method, path: spec.path, headers, body: undefined };
    case 'wild':
      return {
        method: spec.method,
        path: spec.path,
        headers: [...headers, ...spec.headers],
        body: /^(GET|HEAD)$/i.test(spec.method) ? undefined : spec.body,
      };
  }
}

/** Lone surrogates replaced (what a URL or UTF-8 encoder would do anyway), so paths can be built from any string. */
export function toWellFormed(s: string): string {
  return s.replace(/[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g, '\ufffd');
}
