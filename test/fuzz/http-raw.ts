/**
 * Raw HTTP/1.1 requests with framing a well-behaved client never sends: Content-Length longer or shorter than
 * the body, repeated or conflicting lengths, Content-Length with chunked, broken chunks, a declared length over
 * the body limit. Sent on their own socket; Node's parser decides what reaches the application.
 * @module
 */
import * as fc from 'fast-check';
import { BODY_LIMIT } from './http-requests.ts';

export type Framing =
  | 'exact'
  | 'exact-pipelined'
  | 'longer'
  | 'shorter'
  | 'duplicate-same'
  | 'duplicate-different'
  | 'length-and-chunked'
  | 'negative'
  | 'not-a-number'
  | 'huge'
  | 'chunked'
  | 'chunked-bad-size'
  | 'chunked-over-limit'
  | 'declared-over-limit';

export interface RawSpec {
  framing: Framing;
  route: '/orders' | '/order';
  /** How many bytes the declared length is off by, where it is. */
  delta: number;
  amount: string;
  contentType: string;
}

export const rawSpecArbitrary: fc.Arbitrary<RawSpec> = fc.record({
  framing: fc.constantFrom<Framing>(
    'exact',
    'exact-pipelined',
    'longer',
    'shorter',
    'duplicate-same',
    'duplicate-different',
    'length-and-chunked',
    'negative',
    'not-a-number',
    'huge',
    'chunked',
    'chunked-bad-size',
    'chunked-over-limit',
    'declared-over-limit',
  ),
  route: fc.constantFrom<'/orders' | '/order'>('/orders', '/order'),
  delta: fc.integer({ min: 1, max: 20 }),
  amount: fc.constantFrom('50', '"12.34"', '1e308', '"300.005"', '-0'),
  contentType: fc.constantFrom('application/json', 'application/json; charset=utf-8', 'text/plain'),
});

/** The bytes of the case, and whether the order it names may be created (a complete, valid body got through). */
export function renderRaw(spec: RawSpec, orderId: string): { bytes: Buffer; createsIfValid: boolean } {
  // No whitespace, so every proper prefix of the body is malformed JSON.
  const body = `{"orderId":${JSON.stringify(orderId)},"amount":${spec.amount}}`;
  const len = Buffer.byteLength(body);
  const head = (lines: string[]) =>
    `POST ${spec.route} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: ${spec.contentType}\r\n${lines.map((l) => `${l}\r\n`).join('')}\r\n`;
  const chunk = (text: string) => `${Buffer.byteLength(text).toString(16)}\r\n${text}\r\n`;
  const health = 'GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n';
  const d = spec.delta;
  switch (spec.framing) {
    case 'exact':
      return { bytes: Buffer.from(head([`Content-Length: ${len}`]) + body), createsIfValid: true };
    case 'exact-pipelined':
      return { bytes: Buffer.from(head([`Content-Length: ${len}`]) + body + health), createsIfValid: true };
    case 'longer':
      return { bytes: Buffer.from(head([`Content-Length: ${len + d}`]) + body), createsIfValid: false };
    case 'shorter':
      return {
        bytes: Buffer.from(head([`Content-Length: ${Math.max(0, len - d)}`]) + body),
        createsIfValid: false,
      };
    case 'duplicate-same':
      return {
        bytes: Buffer.from(head([`Content-Length: ${len}`, `Content-Length: ${len}`]) + body),
        createsIfValid: true,
      };
    case 'duplicate-different':
      return {
        bytes: Buffer.from(head([`Content-Length: ${len}`, `Content-Length: ${len + d}`]) + body),
        createsIfValid: false,
      };
    case 'length-and-chunked':
      return {
        bytes: Buffer.from(
          head([`Content-Length: ${len}`, 'Transfer-Encoding: chunked']) + chunk(body) + '0\r\n\r\n',
        ),
        createsIfValid: true,
      };
    case 'negative':
      return { bytes: Buffer.from(head([`Content-Length: -${d}`]) + body), createsIfValid: false };
    case 'not-a-number':
      return { bytes: Buffer.from(head([`Content-Length: ${len}abc`]) + body), createsIfValid: false };
    case 'huge':
      return {
        bytes: Buffer.from(head(['Content-Length: 99999999999999999999']) + body),
        createsIfValid: false,
      };
    case 'chunked': {
      const cut = Math.min(d, len - 1);
      return {
        bytes: Buffer.from(
          head(['Transfer-Encoding: chunked']) +
            chunk(body.slice(0, cut)) +
            chunk(body.slice(cut)) +
            '0\r\n\r\n',
        ),
        createsIfValid: true,
      };
    }
    case 'chunked-bad-size':
      return {
        bytes: Buffer.from(`${head(['Transfer-Encoding: chunked'])}zz\r\n${body}\r\n0\r\n\r\n`),
        createsIfValid: false,
      };
    case 'chunked-over-limit': {
      const pad = 'x'.repeat(BODY_LIMIT + d);
      return {
        bytes: Buffer.from(
          head(['Transfer-Encoding: chunked']) +
            chunk(`{"pad":"${pad}",`) +
            chunk(body.slice(1)) +
            '0\r\n\r\n',
        ),
        createsIfValid: false,
      };
    }
    case 'declared-over-limit':
      return {
        bytes: Buffer.from(head([`Content-Length: ${BODY_LIMIT + d}`]) + body),
        createsIfValid: false,
      };
  }
}
