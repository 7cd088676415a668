/**
 * Generated Kafka messages for the fuzz suite: valid PaymentCompleted events written in several equivalent
 * ways, their duplicates (same event id, in another case, envelope style, key, headers or partition), events for
 * orders that do not exist, and poison (random bytes, bad JSON, wrong envelopes, schemas, types and versions,
 * null values) — each with odd keys and headers. `concretize` turns a run's specs into kafkajs messages and says
 * what each one is, for the model.
 * @module
 */
import * as fc from 'fast-check';
import type { IHeaders, Message } from 'kafkajs';

export const PARTITIONS = 3;

type IdCase = 'lower' | 'upper' | 'mixed';
type Envelope =
  | 'plain'
  | 'pretty'
  | 'reordered'
  | 'version-1.0'
  | 'escaped-type'
  | 'offset-time'
  | 'extra-data';
type KeySpec = 'order' | 'null' | 'empty' | 'odd' | 'binary' | 'long';
type HeaderEntry = [name: string, value: string | Uint8Array | (string | Uint8Array)[]];

export type Poison =
  | { kind: 'bytes'; bytes: Uint8Array }
  | { kind: 'null-value' }
  | { kind: 'empty-value' }
  | { kind: 'text'; text: string }
  | { kind: 'envelope'; patch: Record<string, unknown>; drop: string[] }
  | { kind: 'data'; data: unknown };

export interface MessageSpec {
  kind: 'valid' | 'duplicate' | 'same-order' | 'unknown-order' | 'poison';
  /** A fresh event id (made unique per suite in `concretize`). */
  id: string;
  idCase: IdCase;
  /** For duplicates and same-order: which earlier event (index modulo the events so far). */
  of: number;
  /** Duplicates: of an event of an earlier run. */
  earlierRun: boolean;
  envelope: Envelope;
  paymentId: string;
  poison: Poison;
  key: KeySpec;
  oddKey: string;
  headers: HeaderEntry[];
  /** A correlation-id header holding a NUL character (valid event otherwise). */
  nulCorrelation: boolean;
  partition: number;
  samePartition: boolean;
}

const text = fc.string({ unit: 'binary', maxLength: 16 });
const bytes = fc.uint8Array({ maxLength: 24 });
const noNul = (arb: fc.Arbitrary<Uint8Array>) => arb.map((b) => b.map((x) => (x === 0 ? 1 : x)));
const traceValue = fc.oneof(
  text.map((s) => s.replace(/\0/g, '')),
  noNul(bytes),
  fc.constantFrom('corr-1', '', 'x'.repeat(5_000), '\ud800', '\u00e9\u200b\ufeff'),
);
const headerEntry: fc.Arbitrary<HeaderEntry> = fc.oneof(
  fc.tuple(fc.constantFrom('correlation-id', 'causation-id'), traceValue),
  fc.tuple(
    fc.constantFrom('correlation-id', 'causation-id'),
    fc.array(traceValue, { minLength: 2, maxLength: 3 }),
  ),
  fc.tuple(
    fc.constantFrom(
      'event-id',
      'event-type',
      'event-version',
      'content-type',
      'x-odd',
      'x-\u00fc',
      'x-\ud83d\ude00',
      '',
    ),
    fc.oneof(text, bytes, fc.array(fc.oneof(text, bytes), { minLength: 2, maxLength: 3 })),
  ),
);

const uuidLike = fc.constantFrom(
  '{8d2e2f0a-5c1b-4a8e-9f00-1234567890ab}',
  '8d2e2f0a5c1b4a8e9f001234567890ab',
  'urn:uuid:8d2e2f0a-5c1b-4a8e-9f00-1234567890ab',
  '8d2e2f0a-5c1b-4a8e-cf00-1234567890ab',
  '8d2e2f0a-5c1b-0a8e-9f00-1234567890ab',
  ' 8d2e2f0a-5c1b-4a8e-9f00-1234567890ab',
  '',
);
const poison: fc.Arbitrary<Poison> = fc.oneof(
  fc.record({ kind: fc.constant('bytes' as const), bytes: fc.uint8Array({ maxLength: 200 }) }),
  fc.constant({ kind: 'null-value' as const }),
  fc.constant({ kind: 'empty-value' as const }),
  fc.record({
    kind: fc.constant('text' as const),
    text: fc.oneof(
      fc.constantFrom(
        '{',
        '{"id": "not json',
        '[1,2',
        'NaN',
        'undefined',
        "{'id':1}",
        '\ufeff{}',
        '{"a":1}}',
        'null',
        '42',
        '"s"',
        '[]',
      ),
      fc.jsonValue({ maxDepth: 3 }).map((v) => JSON.stringify(v) ?? 'null'),
      text,
    ),
  }),
  fc.record({
    kind: fc.constant('envelope' as const),
    patch: fc.oneof(
      fc.record({ id: fc.oneof(uuidLike, fc.integer(), fc.constant(null)) }),
      fc.record({
        type: fc.constantFrom(
          'PaymentFailed',
          'paymentcompleted',
          'PaymentCompleted ',
          'Unheard',
          '',
          '\u00fc',
          5,
        ),
      }),
      fc.record({ version: fc.constantFrom(0, -1, 1.5, 2, 99, 2_147_483_648, '1', null) }),
      fc.record({ time: fc.constantFrom('yesterday', '2030-01-01T00:00:00', '2030-01-01', '', 0, null) }),
    ),
    drop: fc.subarray(['id', 'type', 'version', 'time', 'data']),
  }),
  fc.record({
    kind: fc.constant('data' as const),
    data: fc.oneof(
      fc.constantFrom(null, [], 'x', 5),
      fc.record({
        orderId: fc.constantFrom('', 'a b', 'a'.repeat(65), 5, '\u00e9'),
        paymentId: fc.constant('p-1'),
        amount: fc.constant('50.00'),
        currency: fc.constant('USD'),
      }),
      fc.record({
        orderId: fc.constant('o-1'),
        paymentId: fc.constantFrom('', 7, null),
        amount: fc.constantFrom(50, '-5', '5.', '', '1e3'),
        currency: fc.constantFrom('usd', 'US', '', 840),
      }),
    ),
  }),
);

export const messageSpec: fc.Arbitrary<MessageSpec> = fc.record({
  kind: fc.oneof(
    { weight: 9, arbitrary: fc.constant('valid' as const) },
    { weight: 4, arbitrary: fc.constant('duplicate' as const) },
    { weight: 1, arbitrary: fc.constant('same-order' as const) },
    { weight: 1, arbitrary: fc.constant('unknown-order' as const) },
    { weight: 7, arbitrary: fc.constant('poison' as const) },
  ),
  id: fc.oneof(
    { weight: 50, arbitrary: fc.noBias(fc.uuid()) },
    {
      weight: 1,
      arbitrary: fc.constantFrom(
        '00000000-0000-0000-0000-000000000000',
        'ffffffff-ffff-ffff-ffff-ffffffffffff',
      ),
    },
  ),
  idCase: fc.constantFrom<IdCase>('lower', 'lower', 'upper', 'mixed'),
  of: fc.nat(),
  earlierRun: fc.oneof(
    { weight: 4, arbitrary: fc.constant(false) },
    { weight: 1, arbitrary: fc.constant(true) },
  ),
  envelope: fc.constantFrom<Envelope>(
    'plain',
    'plain',
    'pretty',
    'reordered',
    'version-1.0',
    'escaped-type',
    'offset-time',
    'extra-data',
  ),
  paymentId: fc.oneof(
    fc.constantFrom('pay-1', '\u0000', '\ud800', 'x'.repeat(2_000)),
    text.filter((s) => s.length > 0),
  ),
  poison,
  key: fc.constantFrom<KeySpec>('order', 'order', 'null', 'empty', 'odd', 'binary', 'long'),
  oddKey: text,
  headers: fc.array(headerEntry, { maxLength: 4 }),
  nulCorrelation: fc.oneof(
    { weight: 299, arbitrary: fc.constant(false) },
    { weight: 1, arbitrary: fc.constant(true) },
  ),
  partition: fc.nat(PARTITIONS - 1),
  samePartition: fc.boolean(),
});

/** One event the run produced (possibly several times). */
export interface EventRecord {
  /** The canonical (lower-case) event id. */
  id: string;
  orderId: string;
  knownOrder: boolean;
  time: string;
  paymentId: string;
  partition: number;
}

/** A produced message and what it is. */
export interface Produced {
  message: Message & { partition: number };
  /** The event it carries, when it decodes; undefined for poison. */
  event: EventRecord | undefined;
  kind: MessageSpec['kind'];
  /** The id as written in the value (its case as sent). */
  idText: string | undefined;
  nulCorrelation: boolean;
  /** Filled in after the send. */
  offset?: string;
}

/** Makes one run's messages; `history` holds the events of earlier runs and `used` every id so far. */
export function concretize(
  specs: readonly MessageSpec[],
  run: number,
  history: EventRecord[],
  used: Set<string>,
): { produced: Produced[]; newOrders: string[] } {
  const events: EventRecord[] = [];
  const newOrders: string[] = [];
  const produced = specs.map((spec, i): Produced => {
    const fresh = (): EventRecord => ({
      id: uniqueId(spec.id, used),
      orderId: spec.kind === 'unknown-order' ? `k${run}-missing-${i}` : `k${run}-${i}`,
      knownOrder: spec.kind !== 'unknown-order',
      time: new Date(Date.UTC(2030, 0, 1, 0, 0, i)).toISOString(),
      paymentId: spec.paymentId,
      partition: spec.partition,
    });
    let event: EventRecord | undefined;
    let kind = spec.kind;
    if (spec.kind === 'poison') event = undefined;
    else if (
      (spec.kind === 'duplicate' || spec.kind === 'same-order') &&
      (events.length > 0 || history.length > 0)
    ) {
      const pool = spec.earlierRun && history.length > 0 ? history : events.length > 0 ? events : history;
      const original = pool[spec.of % pool.length]!;
      event =
        spec.kind === 'duplicate'
          ? original
          : { ...fresh(), orderId: original.orderId, knownOrder: original.knownOrder };
    } else {
      if (kind === 'duplicate' || kind === 'same-order') kind = 'valid';
      event = fresh();
    }
    if (event !== undefined && !events.includes(event) && !history.includes(event)) {
      events.push(event);
      if (event.knownOrder && !newOrders.includes(event.orderId) && event.orderId.startsWith(`k${run}-`)) {
        newOrders.push(event.orderId);
      }
    }
    const partition =
      spec.kind === 'duplicate' && spec.samePartition && event !== undefined
        ? event.partition
        : spec.partition;
    // zod's uuid() takes the max UUID in lower case only (the nil UUID has no letters): keep those lower case.
    const special =
      event !== undefined && /^(0{8}-0{4}-0{4}-0{4}-0{12}|f{8}-f{4}-f{4}-f{4}-f{12})$/.test(event.id);
    const idText =
      event === undefined ? undefined : withCase(event.id, special ? 'lower' : spec.idCase, spec.of);
    const value =
      event === undefined ? poisonValue(spec.poison, i) : eventValue(event, idText!, spec.envelope);
    const headers: IHeaders = {};
    for (const [name, v] of spec.headers) headers[name] = toHeader(v);
    if (spec.nulCorrelation) headers['correlation-id'] = `corr\u0000${i}`;
    return {
      message: { key: key(spec, event?.orderId ?? `k${run}-p${i}`), value, headers, partition },
      event,
      kind,
      idText,
      nulCorrelation: spec.nulCorrelation && event !== undefined,
    };
  });
  history.push(...events.filter((e) => !history.includes(e)));
  return { produced, newOrders };
}

function uniqueId(candidate: string, used: Set<string>): string {
  const c = candidate.toLowerCase();
  let id = c;
  // Taken (fast-check may repeat a value): a v4 UUID from the same prefix and a counter.
  for (let n = 1; used.has(id); n++)
    id = `${c.slice(0, 14)}4${c.slice(15, 19)}8${c.slice(20, 24)}${n.toString(16).padStart(12, '0')}`;
  used.add(id);
  return id;
}

function withCase(id: string, idCase: IdCase, salt: number): string {
  if (idCase === 'lower') return id;
  if (idCase === 'upper') return id.toUpperCase();
  return [...id].map((c, i) => ((i + salt) % 2 === 0 ? c.toUpperCase() : c)).join('');
}

function eventValue(event: EventRecord, idText: string, envelope: Envelope): string {
  const data = { orderId: event.orderId, paymentId: event.paymentId, amount: '50.00', currency: 'USD' };
  const base = { id: idText, type: 'PaymentCompleted', version: 1, time: event.time, data };
  switch (envelope) {
    case 'plain':
      return JSON.stringify(base);
    case 'pretty':
      return JSON.stringify(base, null, 2);
    case 'reordered':
      return JSON.stringify({
        data,
        extra: { nested: [1, { a: null }] },
        time: base.time,
        version: 1,
        type: base.type,
        id: idText,
      });
    case 'version-1.0':
      return JSON.stringify(base).replace('"version":1,', '"version":1.0,');
    case 'escaped-type':
      return JSON.stringify(base).replace('"PaymentCompleted"', '"\\u0050aymentCompleted"');
    case 'offset-time':
      return JSON.stringify({ ...base, time: event.time.replace('Z', '+05:30') });
    case 'extra-data':
      return JSON.stringify({ ...base, data: { ...data, note: '\u0000\ud800', n: 1e308 } });
  }
}

function poisonValue(p: Poison, i: number): Buffer | string | null {
  const valid = {
    id: '8d2e2f0a-5c1b-4a8e-9f00-1234567890ab',
    type: 'PaymentCompleted',
    version: 1,
    time: '2030-01-01T00:00:00.000Z',
    data: { orderId: `poison-${i}`, paymentId: 'p', amount: '50.00', currency: 'USD' },
  };
  switch (p.kind) {
    case 'bytes':
      return Buffer.from(p.bytes);
    case 'null-value':
      return null;
    case 'empty-value':
      return '';
    case 'text':
      return p.text;
    case 'envelope': {
      const envelope: Record<string, unknown> = { ...valid, ...p.patch };
      const drop = Object.keys(p.patch).length === 0 && p.drop.length === 0 ? ['id'] : p.drop;
      for (const name of drop) delete envelope[name];
      return JSON.stringify(envelope);
    }
    case 'data':
      return JSON.stringify({ ...valid, data: p.data });
  }
}

function key(spec: MessageSpec, orderId: string): string | Buffer | null {
  switch (spec.key) {
    case 'order':
      return orderId;
    case 'null':
      return null;
    case 'empty':
      return '';
    case 'odd':
      return spec.oddKey;
    case 'binary':
      return Buffer.from(spec.oddKey, 'latin1');
    case 'long':
      return 'k'.repeat(3_000);
  }
}

function toHeader(v: HeaderEntry[1]): string | Buffer | (string | Buffer)[] {
  const one = (x: string | Uint8Array) => (typeof x === 'string' ? x : Buffer.from(x));
  return Array.isArray(v) ? v.map(one) : one(v);
}
