import { describe, expect, it } from 'vitest';
import { expandExponent, parseAmountInput } from './amount.ts';

describe('parseAmountInput', () => {
  it.each([
    [50, 'USD', 5000n],
    ['50', 'USD', 5000n],
    ['50.5', 'USD', 5050n],
    [300.01, 'USD', 30001n],
    [0.1, 'USD', 10n],
    ['300.00', 'USD', 30000n],
    [1234, 'JPY', 1234n],
    ['1.234', 'KWD', 1234n],
    [999999999999.99, 'USD', 99999999999999n],
  ] as const)('given %j %s, then it is %s minor units', (value, currency, minor) => {
    expect(parseAmountInput(value, currency)).toEqual({ ok: true, minor });
  });

  it.each([
    [0, 'USD', 'must be positive'],
    ['0.00', 'USD', 'must be positive'],
    [-5, 'USD', 'must be positive'],
    ['-0.01', 'USD', 'must be positive'],
    [0.001, 'USD', 'too precise for USD (2 decimals)'],
    [1e-7, 'USD', 'too precise for USD (2 decimals)'],
    ['1.5', 'JPY', 'too precise for JPY (0 decimals)'],
    ['1.0001', 'KWD', 'too precise for KWD (3 decimals)'],
    [0.1 + 0.2, 'USD', 'too precise for USD (2 decimals)'],
    [1e12, 'USD', 'too large: at most 12 digits before the decimal point'],
    [1e21, 'USD', 'too large: at most 12 digits before the decimal point'],
    [1.5e300, 'USD', 'too large: at most 12 digits before the decimal point'],
    ['abc', 'USD', 'is not a number: expected a positive decimal such as 50 or "50.00"'],
    ['', 'USD', 'is not a number: expected a positive decimal such as 50 or "50.00"'],
    ['1e3', 'USD', 'is not a number: expected a positive decimal such as 50 or "50.00"'],
    [' 5', 'USD', 'is not a number: expected a positive decimal such as 50 or "50.00"'],
    ['5,00', 'USD', 'is not a number: expected a positive decimal such as 50 or "50.00"'],
  ] as const)('given %j %s, then it is rejected: %s', (value, currency, message) => {
    expect(parseAmountInput(value, currency)).toEqual({ ok: false, message });
  });
});

describe('expandExponent', () => {
  it.each([
    ['1e+21', '1000000000000000000000'],
    ['1.5e+21', '1500000000000000000000'],
    ['1e-7', '0.0000001'],
    ['1.25e-7', '0.000000125'],
    ['-2e-7', '-0.0000002'],
    ['50.5', '50.5'],
  ])('rewrites %s as %s', (text, expanded) => {
    expect(expandExponent(text)).toBe(expanded);
  });
});
