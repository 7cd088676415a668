/**
 * Amounts for generated create bodies: the currencies' minor digits, hand-checked edge cases (README money
 * rules: integer minor units, the currency's decimals, at most 12 digits before the point, never a float) and
 * acceptable amounts written in several equivalent ways.
 * @module
 */
import * as fc from 'fast-check';

/** ISO 4217 minor digits of the currencies generated (the README's money rules: 0, 2, 3 and 4 decimals). */
export const CURRENCY_DIGITS: Record<string, number> = {
  USD: 2,
  EUR: 2,
  CHF: 2,
  JPY: 0,
  KWD: 3,
  BHD: 3,
  UYW: 4,
};
export const DEFAULT_CURRENCY = 'USD';

/** The amount part: valid ones carry the minor units the order must get. */
export interface AmountPart {
  json: string;
  minor: bigint | undefined;
}

/** Hand-checked edge cases: JSON literal, currency, minor units when acceptable (README: money rules). */
export const EDGE_AMOUNTS: [string, string, bigint | undefined][] = [
  ['1e308', 'USD', undefined],
  ['-1e308', 'USD', undefined],
  ['1.7976931348623157e308', 'USD', undefined],
  ['5e-324', 'USD', undefined],
  ['-0', 'USD', undefined],
  ['0', 'USD', undefined],
  ['"0.00"', 'USD', undefined],
  ['0.001', 'USD', undefined],
  ['0.001', 'KWD', 1n],
  ['"300.005"', 'USD', undefined],
  ['"300.005"', 'KWD', 300005n],
  ['"300.00"', 'USD', 30000n],
  ['300.0', 'USD', 30000n],
  ['1e2', 'USD', 10000n],
  ['1E1', 'USD', 1000n],
  ['0.000001e6', 'USD', 100n],
  ['"1e2"', 'USD', undefined],
  ['0.1', 'USD', 10n],
  ['0.1', 'BHD', 100n],
  ['0.30000000000000004', 'USD', undefined],
  ['1.005', 'USD', undefined],
  ['123.450', 'USD', 12345n],
  ['"123.4500000"', 'USD', 12345n],
  ['999999999999.99', 'USD', 99999999999999n],
  ['"999999999999.999"', 'KWD', 999999999999999n],
  ['"0.0001"', 'UYW', 1n],
  ['"0.00001"', 'UYW', undefined],
  ['1000000000000', 'USD', undefined],
  ['9007199254740993', 'USD', undefined],
  ['1e21', 'USD', undefined],
  ['1e-7', 'USD', undefined],
  ['1', 'JPY', 1n],
  ['1.0', 'JPY', 1n],
  ['"1.0"', 'JPY', 1n],
  ['"1.5"', 'JPY', undefined],
  ['0.01', 'JPY', undefined],
  [`${'9'.repeat(400)}`, 'USD', undefined],
  [`"${'9'.repeat(400)}"`, 'USD', undefined],
  [`"${'0'.repeat(400)}1"`, 'USD', undefined],
  [`"0.${'0'.repeat(400)}1"`, 'USD', undefined],
  [`"1.${'0'.repeat(400)}"`, 'USD', 100n],
  ['"0050"', 'USD', undefined],
  ['"-5"', 'USD', undefined],
  ['"+5"', 'USD', undefined],
  ['" 5"', 'USD', undefined],
  ['"5 "', 'USD', undefined],
  ['".5"', 'USD', undefined],
  ['"5."', 'USD', undefined],
  ['"5,00"', 'USD', undefined],
  ['"1_000"', 'USD', undefined],
  ['"0x10"', 'USD', undefined],
  ['"Infinity"', 'USD', undefined],
  ['"NaN"', 'USD', undefined],
  ['"\\u0665"', 'USD', undefined],
  ['"\\ud800"', 'USD', undefined],
  ['"5\\u0000"', 'USD', undefined],
  ['""', 'USD', undefined],
  ['true', 'USD', undefined],
  ['null', 'USD', undefined],
  ['[]', 'USD', undefined],
  ['[5]', 'USD', undefined],
  ['{}', 'USD', undefined],
  ['{"value":5}', 'USD', undefined],
  [`${'['.repeat(500)}${']'.repeat(500)}`, 'USD', undefined],
];

/** Minor units as the decimal text with exactly `digits` decimals (`5000n, 2` → `50.00`). */
export function fixedText(minor: bigint, digits: number): string {
  const text = minor.toString().padStart(digits + 1, '0');
  return digits === 0 ? text : `${text.slice(0, -digits)}.${text.slice(-digits)}`;
}

/** Terms the pool's orders are usually created with, so retries (replays) and conflicts both happen. */
export const POOL_TERMS: { minor: bigint; currency: string }[] = [
  { minor: 5000n, currency: 'USD' },
  { minor: 1n, currency: 'JPY' },
  { minor: 12345n, currency: 'KWD' },
];

/** Minor units acceptable in a currency with `digits` decimals (12 digits before the point at most). */
export function validMinor(digits: number): fc.Arbitrary<bigint> {
  return fc.oneof(
    { weight: 3, arbitrary: fc.bigInt({ min: 1n, max: 10n ** BigInt(digits + 4) }) },
    { weight: 1, arbitrary: fc.bigInt({ min: 1n, max: 10n ** BigInt(12 + digits) - 1n }) },
  );
}

/** `minor` written as a string or a JSON number in one of several equivalent ways ("50.00", "50", 50, 500e-1). */
export function amountForms(minor: bigint, digits: number): fc.Arbitrary<AmountPart> {
  const fixed = fixedText(minor, digits);
  const stripped = fixed.includes('.') ? fixed.replace(/0+$/, '').replace(/\.$/, '') : fixed;
  const numberOk = String(Number(stripped)) === stripped;
  const forms = [`"${fixed}"`, `"${stripped}"`, `"${fixed}${fixed.includes('.') ? '' : '.'}000"`];
  if (numberOk) forms.push(stripped, stripped, `${stripped}e0`);
  if (numberOk && !stripped.includes('.')) forms.push(`${stripped}0e-1`);
  return fc.constantFrom(...forms).map((json) => ({ json, minor }));
}

export const edgeAmount = fc.constantFrom(...EDGE_AMOUNTS);
