/**
 * Turns the `amount` of an HTTP body (JSON number or decimal string) into minor units without ever doing
 * float arithmetic: a number is converted to the decimal text it was written as, then parsed exactly.
 * @module
 */
import {
  type AmountProblem,
  MAX_MAJOR_DIGITS,
  minorDigits,
  numberToDecimalText,
  parseAmount,
} from '../../contracts/money.ts';

export type AmountResult = { ok: true; minor: bigint } | { ok: false; message: string };

/**
 * Parses an amount given as a JSON number or a string, for a known `currency`.
 * @example parseAmountInput(50, 'USD') // { ok: true, minor: 5000n }
 * @example parseAmountInput('0.001', 'USD') // { ok: false, message: 'too precise for USD (2 decimals)' }
 */
export function parseAmountInput(value: number | string, currency: string): AmountResult {
  const text = typeof value === 'number' ? expandExponent(numberToDecimalText(value)) : value;
  const negative = /^-(0|[1-9]\d*)(\.\d+)?$/.test(text);
  if (negative) return { ok: false, message: problemMessage('not positive', currency) };
  const parsed = parseAmount(text, currency);
  return parsed.ok ? parsed : { ok: false, message: problemMessage(parsed.problem, currency) };
}

function problemMessage(problem: AmountProblem, currency: string): string {
  switch (problem) {
    case 'not a decimal':
      return 'is not a number: expected a positive decimal such as 50 or "50.00"';
    case 'not positive':
      return 'must be positive';
    case 'too precise': {
      const digits = minorDigits(currency) ?? 0;
      return `too precise for ${currency} (${digits} decimal${digits === 1 ? '' : 's'})`;
    }
    case 'too large':
      return `too large: at most ${MAX_MAJOR_DIGITS} digits before the decimal point`;
    case 'unknown currency':
      return `cannot be checked: unknown currency ${currency}`;
  }
}

/**
 * Rewrites the exponent form JavaScript prints for very large or very small numbers (`1e+21`, `1e-7`) as
 * plain decimal text by moving the decimal point in the string, so they are judged as "too large" or
 * "too precise" rather than "not a number". Text without an exponent is returned unchanged.
 */
export function expandExponent(text: string): string {
  const match = /^(-?)(\d+)(?:\.(\d+))?e([+-]\d+)$/i.exec(text);
  if (!match) return text;
  const [, sign, whole, fraction = '', exponentText] = match;
  const exponent = Number(exponentText);
  const digits = `${whole}${fraction}`;
  const point = whole!.length + exponent;
  let expanded: string;
  if (point <= 0) expanded = `0.${'0'.repeat(-point)}${digits}`;
  else if (point >= digits.length) expanded = digits + '0'.repeat(point - digits.length);
  else expanded = `${digits.slice(0, point)}.${digits.slice(point)}`;
  const [intPart = '0', fracPart] = expanded.split('.');
  const normalised = intPart.replace(/^0+(?=\d)/, '') + (fracPart === undefined ? '' : `.${fracPart}`);
  return `${sign}${normalised}`;
}
