/**
 * Money: integer minor units (`bigint`) in memory and in storage, decimal strings on the wire.
 * Never a binary float: JSON numbers are accepted at the HTTP edge only and are converted through
 * their shortest decimal representation (`String(n)`), then parsed exactly.
 * @module
 */
import currencyCodes from 'currency-codes';

/** ISO 4217 codes that are not money one can pay with (precious metals, funds, test codes). */
const NOT_PAYABLE = new Set([
  'XAU',
  'XAG',
  'XPT',
  'XPD',
  'XBA',
  'XBB',
  'XBC',
  'XBD',
  'XDR',
  'XSU',
  'XUA',
  'XTS',
  'XXX',
]);

/** Largest accepted amount in major units (exclusive): 10^12, e.g. just under one trillion dollars. */
export const MAX_MAJOR_DIGITS = 12;

/** Minor-unit digits of an ISO 4217 currency (USD 2, JPY 0, KWD 3), or `undefined` when the code is unknown. */
export function minorDigits(currency: string): number | undefined {
  if (NOT_PAYABLE.has(currency)) return undefined;
  const entry = currencyCodes.code(currency);
  return entry && Number.isInteger(entry.digits) ? entry.digits : undefined;
}

/** True when `currency` is a payable ISO 4217 code in upper case. */
export function isCurrency(currency: string): boolean {
  return /^[A-Z]{3}$/.test(currency) && minorDigits(currency) !== undefined;
}

const DECIMAL = /^(0|[1-9]\d*)(?:\.(\d+))?$/;

/** Why an amount was rejected, phrased for an API error message. */
export type AmountProblem =
  | 'not a decimal'
  | 'not positive'
  | 'too precise'
  | 'too large'
  | 'unknown currency';

/**
 * Parses a positive decimal amount into minor units of `currency`.
 * @example parseAmount('50.5', 'USD') // { ok: true, minor: 5050n }
 * @example parseAmount('0.001', 'USD') // { ok: false, problem: 'too precise' }
 */
export function parseAmount(
  text: string,
  currency: string,
): { ok: true; minor: bigint } | { ok: false; problem: AmountProblem } {
  const digits = minorDigits(currency);
  if (digits === undefined) return { ok: false, problem: 'unknown currency' };
  const match = DECIMAL.exec(text);
  if (!match) return { ok: false, problem: 'not a decimal' };
  const whole = match[1]!;
  const fraction = (match[2] ?? '').replace(/0+$/, '');
  if (fraction.length > digits) return { ok: false, problem: 'too precise' };
  if (whole.length > MAX_MAJOR_DIGITS) return { ok: false, problem: 'too large' };
  const minor = BigInt(whole + fraction.padEnd(digits, '0'));
  if (minor <= 0n) return { ok: false, problem: 'not positive' };
  return { ok: true, minor };
}

/**
 * Formats minor units as a decimal string with exactly the currency's minor digits.
 * @example formatAmount(5050n, 'USD') // '50.50'
 */
export function formatAmount(minor: bigint, currency: string): string {
  const digits = minorDigits(currency) ?? 2;
  const negative = minor < 0n;
  const text = (negative ? -minor : minor).toString().padStart(digits + 1, '0');
  const whole = text.slice(0, text.length - digits);
  const fraction = text.slice(text.length - digits);
  return (negative ? '-' : '') + (digits === 0 ? whole : `${whole}.${fraction}`);
}

/** Converts a JSON number from an HTTP body to the decimal text it was written as (shortest round-trip form). */
export function numberToDecimalText(value: number): string {
  // 1e21 and above, and tiny values, print in exponent form; those are rejected as "not a decimal" or "too large".
  return Number.isFinite(value) ? String(value) : 'NaN';
}
