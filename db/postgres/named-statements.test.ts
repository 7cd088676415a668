import { describe, expect, it } from 'vitest';
import { preparedStatementsOption, statementName } from './named-statements.ts';

describe('preparedStatementsOption', () => {
  it.each([
    ['postgres://h/db', 'postgres://h/db', true],
    ['postgres://h/db?prepare=false', 'postgres://h/db', false],
    ['postgres://h/db?prepare=off&sslmode=disable', 'postgres://h/db?sslmode=disable', false],
    ['postgres://h/db?sslmode=disable&prepare=0', 'postgres://h/db?sslmode=disable', false],
    ['postgres://h/db?a=1&prepare=false&b=2', 'postgres://h/db?a=1&b=2', false],
    ['postgres://h/db?prepare=true', 'postgres://h/db', true],
  ])('reads %s as %s, prepare %s', (input, url, prepare) => {
    expect(preparedStatementsOption(input)).toEqual({ url, prepare });
  });
});

describe('statementName', () => {
  it('gives one text one name, and another text another', () => {
    const a = statementName('select $1::int as named_test_a');
    expect(a).toMatch(/^of[0-9a-z]+$/);
    expect(statementName('select $1::int as named_test_a')).toBe(a);
    expect(statementName('select $1::int as named_test_b')).not.toBe(a);
  });
});
