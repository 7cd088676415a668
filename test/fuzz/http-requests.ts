/**
 * Generated HTTP requests for the fuzz suite. A `RequestSpec` says what a request means (so the oracle knows
 * what to expect) with its order ids and idempotency keys as references into a small per-run pool; `toWire`
 * fills those in with the run's prefix and renders method, path, headers and body bytes.
 * @module
 */
import * as fc from 'fast-check';
import {
  type AmountPart,
  amountForms,
  CURRENCY_DIGITS,
  DEFAULT_CURRENCY,
  edgeAmount,
  POOL_TERMS,
  validMinor,
} from './http-amounts.ts';
import { RAW_MARKER, toWellFormed } from './http-render.ts';

export type CreateRoute = '/orders' | '/order';

export const BODY_LIMIT = 64 * 1024;

/** A part of a create body: its JSON text and whether it is acceptable on its own. */
interface Part {
  json: string;
  valid: boolean;
}

/** A reference to the run's pool (`{ pool: i }`) or a literal value (valid or not). */
export type Ref = { pool: number } | { raw: string; valid: boolean };

export interface CreateSpec {
  kind: 'create';
  route: CreateRoute;
  order: Ref | undefined;
  key: Ref | undefined;
  amount: AmountPart | undefined;
  /** The currency field as JSON text, or absent (USD). */
  currency: (Part & { code: string }) | undefined;
  legacy: boolean;
  contentType: { value: string | undefined; valid: boolean };
  /** Extra fields the schema ignores (JSON texts), and whitespace between tokens. */
  junk: string[];
  space: string;
  /** How the JSON text is broken, if it is. */
  corrupt:
    | 'none'
    | 'truncate'
    | 'trailing'
    | 'bom'
    | 'single-quotes'
    | 'empty'
    | 'array'
    | 'null'
    | 'string'
    | 'number';
  /** Padding (an ignored field) that takes the body to this many bytes: over the limit = 413. */
  padTo: number | undefined;
}

export type RequestSpec =
  | CreateSpec
  | { kind: 'get'; id: Ref; encode: boolean; head: boolean }
  | { kind: 'probe'; path: '/healthz' | '/readyz'; head: boolean }
  | { kind: 'wrong-method'; path: string; method: string; allow: string }
  | { kind: 'unknown-path'; path: string; method: string }
  | { kind: 'wild'; method: string; path: string; headers: [string, string][]; body: Uint8Array | undefined };

/** A generated request plus headers that must not change its meaning. */
export interface GeneratedRequest {
  spec: RequestSpec;
  noise: [string, string][];
}

/** What goes on the wire. Header names may repeat. */
export interface WireRequest {
  method: string;
  path: string;
  headers: [string, string][];
  body: Uint8Array | undefined;
}

const enc = new TextEncoder();

// ——— strings that are never valid ids ———

const oddUnicode = fc.constantFrom(
  '\u00e9',
  '\u0000',
  '\u200b',
  '\ufeff',
  '\ud83d\ude00',
  '\ud800',
  '\udfff',
  '\u202e',
  'e\u0301',
  '\uffff',
  ' ',
  '\t',
  '/',
  '..',
  '%00',
  '?',
  '#',
);
/** 1–64 of `[A-Za-z0-9_-]` (the order id rule) — valid. */
const validIdChars = fc.string({
  unit: fc.constantFrom(...'abcXYZ019_-'.split('')),
  minLength: 1,
  maxLength: 64,
});
const invalidOrderId = fc.oneof(
  fc.constant(''),
  fc.constant('a'.repeat(65)),
  fc.tuple(validIdChars, oddUnicode, fc.string({ maxLength: 3 })).map(([a, b, c]) => `${a}${b}${c}`),
  fc.string({ unit: 'binary', minLength: 1, maxLength: 8 }).filter((s) => !/^[A-Za-z0-9_-]{1,64}$/.test(s)),
);

/** Header values a fetch `Headers` and node:http both accept (latin1, no CR/LF/NUL), trimmed as they would be. */
const headerValue = fc
  .string({ unit: fc.integer({ min: 0x20, max: 0xff }).map((c) => String.fromCharCode(c)), maxLength: 40 })
  .map((s) => s.replace(/\x7f/g, '').trim());
const invalidKey = fc.oneof(
  fc.constant(''),
  fc.constant('k'.repeat(256)),
  fc.constant('two words'),
  fc.constant('caf\u00e9'),
  headerValue.filter((s) => !/^[\x21-\x7E]{1,255}$/.test(s)),
);
const validKey = fc.string({
  unit: fc.integer({ min: 0x21, max: 0x7e }).map((c) => String.fromCharCode(c)),
  minLength: 1,
  maxLength: 255,
});

// ——— create bodies ———

const VALID_TYPES = [
  'application/json',
  'application/json; charset=utf-8',
  'Application/JSON',
  'application/json ; charset=UTF-8',
  'application/problem+json',
  'application/vnd.orderflow.v1+json',
];
const INVALID_TYPES = [
  'text/plain',
  'application/jsonp',
  'application/x-www-form-urlencoded',
  'json',
  'text/json',
  '',
];

const RESERVED = new Set(['amount', 'Amount', 'currency', 'orderId', 'OrderId']);
const junkField = fc
  .tuple(
    fc.oneof(
      fc.string({ maxLength: 8 }),
      fc.constantFrom('__proto__', 'constructor', 'AMOUNT', 'order_id', '\ud800'),
    ),
    fc.oneof(
      fc.jsonValue({ maxDepth: 3 }).map((v) => JSON.stringify(v) ?? 'null'),
      fc.string({ unit: 'binary', maxLength: 20 }).map((s) => JSON.stringify(s)),
      fc.constantFrom(
        '"\\ud800"',
        '"\\udc00\\ud800"',
        '"\\u0000"',
        `"${RAW_MARKER}"`,
        '1e308',
        '-0',
        `${'{"a":'.repeat(200)}1${'}'.repeat(200)}`,
      ),
      fc.integer({ min: 1, max: 3000 }).map((n) => `${'['.repeat(n)}${']'.repeat(n)}`),
    ),
  )
  .filter(([name]) => !RESERVED.has(name))
  .map(([name, value]) => `${JSON.stringify(name)}:${value}`);

const invalidCurrency = fc.oneof(
  fc.constantFrom(
    '"usd"',
    '"XAU"',
    '"XXX"',
    '"ZZZ"',
    '"USDD"',
    '"US"',
    '840',
    'null',
    '""',
    '"U\\u0000D"',
    '"\\ud800SD"',
  ),
  fc
    .string({ maxLength: 5 })
    .filter((s) => !(s in CURRENCY_DIGITS) && !/^[A-Z]{3}$/.test(s))
    .map((s) => JSON.stringify(s)),
);

const ref = (valid: fc.Arbitrary<string>, invalid: fc.Arbitrary<string>, pool: number): fc.Arbitrary<Ref> =>
  fc.oneof(
    { weight: 6, arbitrary: fc.nat(pool - 1).map((i) => ({ pool: i })) },
    { weight: 1, arbitrary: valid.map((raw) => ({ raw, valid: true })) },
    { weight: 1, arbitrary: invalid.map((raw) => ({ raw, valid: false })) },
  );

export const ORDER_POOL = 2;
export const KEY_POOL = 2;

const rare = <T>(common: fc.Arbitrary<T>, odd: fc.Arbitrary<T>, oneIn: number) =>
  fc.oneof({ weight: oneIn - 1, arbitrary: common }, { weight: 1, arbitrary: odd });

const createSpec: fc.Arbitrary<CreateSpec> = fc
  .record({
    route: fc.constantFrom<CreateRoute>('/orders', '/order'),
    order: fc.option(ref(validIdChars, invalidOrderId, ORDER_POOL), { nil: undefined, freq: 3 }),
    key: fc.option(ref(validKey, invalidKey, KEY_POOL), { nil: undefined, freq: 2 }),
    poolTerms: rare(fc.constant(true), fc.constant(false), 4),
    code: fc.constantFrom(...Object.keys(CURRENCY_DIGITS)),
    currencyForm: rare(fc.constantFrom('absent', 'present'), fc.constant('invalid'), 12),
    invalidCurrency,
    amountForm: fc.oneof(
      { weight: 12, arbitrary: fc.constant('valid') },
      { weight: 3, arbitrary: fc.constant('edge') },
      { weight: 1, arbitrary: fc.constant('missing') },
    ),
    edge: edgeAmount,
    legacy: fc.boolean(),
    contentType: rare(
      fc.constantFrom(...VALID_TYPES).map((value) => ({ value, valid: true })),
      fc.constantFrom(...INVALID_TYPES, undefined).map((value) => ({ value, valid: false })),
      15,
    ),
    junk: fc.array(junkField, { maxLength: 3 }),
    space: fc.constantFrom('', ' ', '\n  ', '\t'),
    corrupt: rare(
      fc.constant<CreateSpec['corrupt']>('none'),
      fc.constantFrom<CreateSpec['corrupt']>(
        'truncate',
        'trailing',
        'bom',
        'single-quotes',
        'empty',
        'array',
        'null',
        'string',
        'number',
      ),
      15,
    ),
    padTo: fc.oneof(
      { weight: 48, arbitrary: fc.constant(undefined) },
      { weight: 2, arbitrary: fc.integer({ min: BODY_LIMIT - 64, max: BODY_LIMIT }) },
      { weight: 1, arbitrary: fc.integer({ min: BODY_LIMIT + 1, max: BODY_LIMIT + 4_096 }) },
      { weight: 1, arbitrary: fc.constant(BODY_LIMIT * 3) },
    ),
  })
  .chain((r) => {
    const poolIndex =
      r.order !== undefined && 'pool' in r.order
        ? r.order.pool
        : r.key !== undefined && 'pool' in r.key
          ? r.key.pool
          : 0;
    const terms = r.poolTerms ? POOL_TERMS[poolIndex % POOL_TERMS.length]! : undefined;
    const code = r.amountForm === 'edge' ? r.edge[1] : (terms?.currency ?? r.code);
    const digits = CURRENCY_DIGITS[code]!;
    const amount: fc.Arbitrary<AmountPart | undefined> =
      r.amountForm === 'missing'
        ? fc.constant(undefined)
        : r.amountForm === 'edge'
          ? fc.constant({ json: r.edge[0], minor: r.edge[2] })
          : terms !== undefined
            ? amountForms(terms.minor, digits)
            : validMinor(digits).chain((minor) => amountForms(minor, digits));
    return amount.map((a): CreateSpec => {
      const currency =
        r.currencyForm === 'invalid'
          ? { json: r.invalidCurrency, valid: false, code }
          : r.currencyForm === 'absent' && code === DEFAULT_CURRENCY
            ? undefined
            : { json: JSON.stringify(code), valid: true, code };
      return {
        kind: 'create',
        route: r.route,
        order: r.order,
        key: r.key,
        amount: a,
        currency,
        legacy: r.legacy,
        contentType: r.contentType,
        junk: r.junk,
        space: r.space,
        corrupt: r.corrupt,
        padTo: r.padTo,
      };
    });
  });

// ——— other requests ———

const OTHER_METHODS = ['PUT', 'DELETE', 'PATCH', 'OPTIONS', 'PROPFIND', 'PURGE', 'X-CUSTOM'];
const getSpec = fc.record({
  kind: fc.constant('get' as const),
  id: ref(validIdChars, invalidOrderId, ORDER_POOL),
  encode: fc.boolean(),
  head: fc.boolean(),
});
const probeSpec = fc.record({
  kind: fc.constant('probe' as const),
  path: fc.constantFrom<'/healthz' | '/readyz'>('/healthz', '/readyz'),
  head: fc.boolean(),
});
const wrongMethodSpec = fc.oneof(
  // `/orders` also answers GET (list-orders, with HEAD); `/order` is the create alias only.
  fc.record({
    kind: fc.constant('wrong-method' as const),
    path: fc.constant('/orders'),
    method: fc.constantFrom(...OTHER_METHODS),
    allow: fc.constant('POST, GET, HEAD'),
  }),
  fc.record({
    kind: fc.constant('wrong-method' as const),
    path: fc.constant('/order'),
    method: fc.constantFrom('GET', 'HEAD', ...OTHER_METHODS),
    allow: fc.constant('POST'),
  }),
  fc.record({
    kind: fc.constant('wrong-method' as const),
    path: validIdChars.map((id) => `/orders/${id}`),
    method: fc.constantFrom('POST', ...OTHER_METHODS),
    allow: fc.constant('GET, HEAD'),
  }),
);
/** Paths no route matches: another first segment, a case variant, a trailing slash or an extra segment. */
const unknownPath = fc.oneof(
  fc.constantFrom(
    '/',
    '/ORDERS',
    '/Orders',
    '/orders/',
    '/order/',
    '/healthz/',
    '/readyz/x',
    '/HEALTHZ',
    '/ordersx',
  ),
  validIdChars.map((id) => `/orders/${id}/x`),
  validIdChars.map((id) => `/order/${id}`),
  fc.webPath().map((p) => `/zz${p.startsWith('/') ? p : `/${p}`}`),
);
const unknownPathSpec = fc.record({
  kind: fc.constant('unknown-path' as const),
  path: unknownPath,
  method: fc.constantFrom('GET', 'POST', 'HEAD', ...OTHER_METHODS),
});

/** Anything at all: generic properties only (never a 5xx, the one error shape). */
const wildSpec = fc.record({
  kind: fc.constant('wild' as const),
  method: fc.constantFrom('GET', 'POST', 'PUT', 'DELETE', 'HEAD', 'OPTIONS', 'PATCH', 'get', 'post', 'FOO'),
  path: fc.oneof(
    fc.constantFrom('/orders', '/order', '/healthz', '/readyz', '/orders/x'),
    fc.webPath(),
    fc.string({ unit: 'binary', maxLength: 12 }).map((s) => `/orders/${encodeURIComponent(toWellFormed(s))}`),
    fc.string({ unit: 'binary', maxLength: 12 }).map((s) => `/${toWellFormed(s).replace(/[?#]/g, '')}`),
    fc.constantFrom(
      '/orders/%',
      '/orders/%E0%A4%A',
      '/orders/%00',
      '/orders/a%2Fb',
      '//orders',
      '/orders?amount=5',
      '/./orders',
      '/orders/..',
    ),
  ),
  headers: fc.array(
    fc.tuple(
      fc.constantFrom(
        'content-type',
        'idempotency-key',
        'accept',
        'x-request-id',
        'x-correlation-id',
        'x-odd',
      ),
      headerValue,
    ),
    { maxLength: 4 },
  ),
  body: fc.option(
    fc.oneof(
      fc.uint8Array({ maxLength: 64 }),
      fc.string({ unit: 'binary', maxLength: 64 }).map((s) => enc.encode(s)),
      fc.jsonValue({ maxDepth: 4 }).map((v) => enc.encode(JSON.stringify(v) ?? 'null')),
    ),
    { nil: undefined },
  ),
});

/** Headers that never change what a request means. */
const noiseHeaders = fc.array(
  fc.tuple(
    fc.constantFrom(
      'x-request-id',
      'x-correlation-id',
      'accept',
      'user-agent',
      'x-forwarded-for',
      'cookie',
      'x-\u00e9'.replace('\u00e9', 'e'),
    ),
    fc.oneof(
      headerValue,
      fc.constantFrom('req-1', 'a'.repeat(129), 'a'.repeat(128), '<script>', '../../etc/passwd'),
    ),
  ),
  { maxLength: 3 },
);

export const requestArbitrary: fc.Arbitrary<GeneratedRequest> = fc.record({
  spec: fc.oneof(
    { weight: 12, arbitrary: createSpec },
    { weight: 3, arbitrary: getSpec },
    { weight: 1, arbitrary: probeSpec },
    { weight: 1, arbitrary: wrongMethodSpec },
    { weight: 1, arbitrary: unknownPathSpec },
    { weight: 2, arbitrary: wildSpec },
  ),
  noise: noiseHeaders,
});
