/**
 * What the HTTP fuzz suite expects of each response: the generic properties every response has (never a 5xx,
 * the one JSON error shape of `runtime/http/errors.ts`) and, for requests whose meaning is known, the status a
 * model of the orders and idempotency keys written so far predicts (README "Idempotent API", money rules).
 * @module
 */
import { CURRENCY_DIGITS, DEFAULT_CURRENCY, fixedText } from './http-amounts.ts';
import { keyValue, type RunPool, refValue } from './http-render.ts';
import {
  BODY_LIMIT,
  type CreateRoute,
  type CreateSpec,
  type GeneratedRequest,
  type WireRequest,
} from './http-requests.ts';

/** A response as every transport reports it. Header names are lower-case; repeated ones joined. */
export interface FuzzResponse {
  status: number;
  headers: Record<string, string>;
  text: string;
}

const ERROR_KEYS = new Set(['status', 'code', 'message', 'errors', 'requestId']);
const SAFE_ID = /^[A-Za-z0-9._:@=+/-]{1,128}$/; // README: an incoming id is honoured when 1–128 safe characters
const JSON_TYPE = /^application\/json(?:;|$)/;

/** Problems with the properties every response must have, whatever was asked. */
export function genericProblems(wire: WireRequest, res: FuzzResponse): string[] {
  const problems: string[] = [];
  const head = wire.method.toUpperCase() === 'HEAD';
  if (res.status >= 500) problems.push(`a ${res.status}`);
  if (res.status < 200) problems.push(`status ${res.status}`);
  const requestId = res.headers['x-request-id'];
  if (requestId === undefined || !SAFE_ID.test(requestId)) problems.push(`x-request-id ${String(requestId)}`);
  const sent = wire.headers.filter(([name]) => name === 'x-request-id').map(([, v]) => v);
  if (sent.length > 0 && SAFE_ID.test(sent.join(', ')) && requestId !== sent.join(', ')) {
    problems.push(`a safe x-request-id "${sent.join(', ')}" was not honoured (got ${String(requestId)})`);
  }
  if (res.status >= 400 || !head) {
    const type = res.headers['content-type'];
    if (type === undefined || !JSON_TYPE.test(type)) problems.push(`content-type ${String(type)}`);
  }
  if (head) {
    if (res.text !== '') problems.push('a body on a HEAD response');
    return problems;
  }
  if (res.status >= 400) problems.push(...errorShapeProblems(res.text, requestId));
  else if (res.text !== '' && parse(res.text) === undefined) problems.push('a 2xx body that is not JSON');
  return problems;
}

/** `{status:'error', code, message, errors?, requestId}` and nothing else. */
export function errorShapeProblems(text: string, requestId: string | undefined): string[] {
  const body = parse(text);
  if (typeof body !== 'object' || body === null || Array.isArray(body))
    return [`error body is not a JSON object: ${text.slice(0, 200)}`];
  const problems: string[] = [];
  const b = body as Record<string, unknown>;
  for (const key of Object.keys(b))
    if (!ERROR_KEYS.has(key)) problems.push(`unexpected error field "${key}"`);
  if (b.status !== 'error') problems.push(`error status ${JSON.stringify(b.status)}`);
  if (typeof b.code !== 'string' || !/^[a-z_]+$/.test(b.code))
    problems.push(`error code ${JSON.stringify(b.code)}`);
  if (typeof b.message !== 'string' || b.message === '') problems.push('no error message');
  if (typeof b.requestId !== 'string' || b.requestId !== requestId)
    problems.push(`requestId ${String(b.requestId)} ≠ header ${String(requestId)}`);
  if (b.errors !== undefined) {
    const ok =
      Array.isArray(b.errors) &&
      b.errors.length > 0 &&
      b.errors.every(
        (e) =>
          typeof e === 'object' &&
          e !== null &&
          Object.keys(e).every((k) => k === 'path' || k === 'message') &&
          typeof (e as { path: unknown }).path === 'string' &&
          typeof (e as { message: unknown }).message === 'string',
      );
    if (!ok) problems.push(`errors ${JSON.stringify(b.errors).slice(0, 200)}`);
  }
  if (/\bat [\w.<>]+ \(|node_modules|\.ts:\d+/.test(text)) problems.push('a stack trace in an error body');
  return problems;
}

export function parse(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** An order as the model knows it: its terms, as acknowledged. */
interface ModelOrder {
  minor: bigint;
  currency: string;
}

/** What a request should get: the allowed statuses, and a check of the body when there is one. */
export interface Expectation {
  statuses: number[];
  code?: string;
  /** For a create the model can predict: the order id it must return (undefined = a new generated one). */
  orderId?: string | undefined;
  terms?: ModelOrder;
  replay?: boolean;
}

const GENERIC: Expectation = { statuses: [] };

/**
 * The orders and idempotency keys in the database, as acknowledged responses made them. It predicts the
 * answer of a request whose meaning is known and learns from every 2xx create.
 */
export class OrdersModel {
  readonly orders = new Map<string, ModelOrder>();
  /** Idempotency keys by route and key: the hash of the normalised request and the order it made. */
  private readonly keys = new Map<string, { hash: string; orderId: string }>();

  expect(request: GeneratedRequest, wire: WireRequest, pool: RunPool): Expectation {
    const { spec } = request;
    switch (spec.kind) {
      case 'create':
        return this.expectCreate(spec, wire, pool);
      case 'get': {
        const id = refValue(spec.id, pool.orderId);
        if ('pool' in spec.id || spec.id.valid)
          return this.orders.has(id) ? { statuses: [200] } : { statuses: [404], code: 'not_found' };
        return spec.encode && id !== '' ? { statuses: [400], code: 'validation_failed' } : GENERIC;
      }
      case 'probe':
        return { statuses: [200] };
      case 'wrong-method':
        return { statuses: [405], code: 'method_not_allowed' };
      case 'unknown-path':
        return { statuses: [404], code: 'not_found' };
      case 'wild':
        return GENERIC;
    }
  }

  private expectCreate(spec: CreateSpec, wire: WireRequest, pool: RunPool): Expectation {
    const size = wire.body?.length ?? 0;
    if (size > BODY_LIMIT) return { statuses: [413], code: 'payload_too_large' };
    const broken = spec.corrupt !== 'none' && spec.corrupt !== 'bom';
    const orderId = spec.order === undefined ? undefined : refValue(spec.order, pool.orderId);
    const key = keyValue(spec, pool);
    const currency = spec.currency?.code ?? DEFAULT_CURRENCY;
    const valid =
      !broken &&
      spec.contentType.valid &&
      (spec.order === undefined || 'pool' in spec.order || spec.order.valid) &&
      (spec.key === undefined || 'pool' in spec.key || spec.key.valid) &&
      spec.amount?.minor !== undefined &&
      (spec.currency === undefined || spec.currency.valid);
    if (!valid) return { statuses: [400], code: 'validation_failed' };
    const terms = { minor: spec.amount!.minor!, currency };
    const hash = JSON.stringify([
      orderId ?? null,
      fixedText(terms.minor, CURRENCY_DIGITS[currency]!),
      currency,
    ]);
    if (key !== undefined) {
      const seen = this.keys.get(scoped(spec.route, key));
      if (seen !== undefined) {
        if (seen.hash !== hash) return { statuses: [422], code: 'unprocessable' };
        return {
          statuses: [200, 201],
          orderId: seen.orderId,
          terms: this.orders.get(seen.orderId)!,
          replay: true,
        };
      }
    }
    if (orderId !== undefined) {
      const existing = this.orders.get(orderId);
      if (existing !== undefined) {
        if (existing.minor !== terms.minor || existing.currency !== terms.currency)
          return { statuses: [409], code: 'conflict' };
        return { statuses: [200, 201], orderId, terms: existing, replay: true };
      }
    }
    return { statuses: [201], orderId, terms };
  }

  /** Learns from any 2xx create: the order exists now, with the terms its view shows. */
  learnOrder(orderId: string, view: { totalAmount: string; currency: string }): void {
    if (!this.orders.has(orderId)) {
      this.orders.set(orderId, { minor: BigInt(view.totalAmount.replace('.', '')), currency: view.currency });
    }
  }

  /** Learns from a 2xx create of a known request: its key (if any) now names that order. */
  learnKey(spec: CreateSpec, pool: RunPool, orderId: string): void {
    if (spec.key === undefined || !('pool' in spec.key || spec.key.valid)) return;
    const key = keyValue(spec, pool)!;
    const terms = this.orders.get(orderId)!;
    const requested = spec.order === undefined ? null : refValue(spec.order, pool.orderId);
    const currency = spec.currency?.code ?? DEFAULT_CURRENCY;
    const minor = spec.amount?.minor ?? terms.minor;
    const hash = JSON.stringify([requested, fixedText(minor, CURRENCY_DIGITS[currency]!), currency]);
    if (!this.keys.has(scoped(spec.route, key))) this.keys.set(scoped(spec.route, key), { hash, orderId });
  }
}

function scoped(route: CreateRoute, key: string): string {
  return `${route} ${key}`;
}

/** Problems with a response against what the model expected. */
export function expectationProblems(expected: Expectation, res: FuzzResponse, head: boolean): string[] {
  if (expected.statuses.length === 0) return [];
  const problems: string[] = [];
  if (!expected.statuses.includes(res.status))
    problems.push(`status ${res.status}, expected ${expected.statuses.join(' or ')}`);
  if (head || res.status !== expected.statuses[0] || expected.code === undefined) return problems;
  const body = parse(res.text) as { code?: unknown } | undefined;
  if (body?.code !== expected.code)
    problems.push(`code ${JSON.stringify(body?.code)}, expected ${expected.code}`);
  return problems;
}
