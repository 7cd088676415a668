import { describe, expect, it } from 'vitest';
import { REDACTED, redactText, redactUrl } from './redact.ts';

describe('redactUrl', () => {
  it.each([
    ['postgres://u:s3cret@db:5432/orders', 'postgres://u:***@db:5432/orders'],
    ['postgresql://u:p@ss:w/rd@db/orders?sslmode=require', 'postgresql://u:***@db/orders?sslmode=require'],
    [
      'mssql://sa:pw@127.0.0.1:1433/orders?encrypt=false',
      'mssql://sa:***@127.0.0.1:1433/orders?encrypt=false',
    ],
    ['mssql://sa:p%40ss%3Bw@db/orders', 'mssql://sa:***@db/orders'],
    ['mssql://:only@db/orders', 'mssql://:***@db/orders'],
    ['sa:pw@db/orders', 'sa:***@db/orders'],
    ['postgres//u:pw@db/orders', 'postgres//u:***@db/orders'],
    ['mysql://admin:pw@db/orders', 'mysql://admin:***@db/orders'],
    [
      'sqlserver://db:1433;databaseName=orders;user=sa;password=pw;encrypt=true',
      'sqlserver://db:1433;databaseName=orders;user=sa;password=***;encrypt=true',
    ],
    ['sqlserver://db;password={a;b}}c};user=sa', 'sqlserver://db;password=***;user=sa'],
    ['sqlserver://db;password={never closed;user=sa', 'sqlserver://db;password=***'],
    ['sqlserver://db;user=sa;password=a;b', 'sqlserver://db;user=sa;password=***'],
    ['sqlserver://db;password=a&b=c;user=sa', 'sqlserver://db;password=***;user=sa'],
    ['jdbc:sqlserver://db:1433;user=sa;PASSWORD=pw', 'jdbc:sqlserver://db:1433;user=sa;PASSWORD=***'],
    [
      'Server=tcp:db,1433;Database=orders;User ID=sa;Password=pw;Encrypt=true',
      'Server=tcp:db,1433;Database=orders;User ID=sa;Password=***;Encrypt=true',
    ],
    ['Server=db;Pwd="a;""b""";Database=orders', 'Server=db;Pwd=***;Database=orders'],
    ["Server=db;Pwd='a;b';Database=orders", 'Server=db;Pwd=***;Database=orders'],
    [
      'postgres://db/orders?user=u&password=pw&sslmode=require',
      'postgres://db/orders?user=u&password=***&sslmode=require',
    ],
    ['postgres://db/orders?password=a;b=c&x=1', 'postgres://db/orders?password=***&x=1'],
    ['host=db user=u password=pw dbname=orders', 'host=db user=u password=***'],
    ['sqlserver://db;accessToken=eyJ.x;user=sa', 'sqlserver://db;accessToken=***;user=sa'],
  ])('%s → %s', (input, expected) => {
    expect(redactUrl(input)).toBe(expected);
  });

  it.each([
    ['abc'],
    ['5000'],
    ['broker-1:9092,broker-2:9092'],
    ['postgres://db:5432/orders'],
    ['mssql://sa@db/orders'],
    ['sqlserver://db:1433;databaseName=orders;user=sa'],
    ['https://hooks.example/notify?x=1'],
  ])('leaves %s, which has no secret, as it is', (value) => {
    expect(redactUrl(value)).toBe(value);
  });

  it('hides more rather than less when it cannot tell: an @ in the query is taken for the end of a password', () => {
    expect(redactUrl('mssql://db:1433/orders?appName=me@corp')).toBe('mssql://db:***@corp');
  });

  // Every odd character a password may hold, in every shape of URL and connection string: the password's
  // text (both halves around the odd character) never survives.
  const ODD = [
    '@',
    ':',
    ';',
    '/',
    '?',
    '#',
    '&',
    '=',
    '%',
    '%40',
    ' ',
    "'",
    '"',
    '{',
    '}',
    '}}',
    '{a;b}',
    ',',
    '\\',
  ];
  const SHAPES: [string, (password: string) => string][] = [
    ['postgres URL', (p) => `postgres://u:${p}@db:5432/orders`],
    ['postgres URL with options', (p) => `postgresql://u:${p}@db/orders?sslmode=require`],
    ['postgres URL, percent-encoded', (p) => `postgres://u:${encodeURIComponent(p)}@db/orders`],
    ['mssql URL', (p) => `mssql://sa:${p}@db:1433/orders?encrypt=false`],
    ['sqlserver URL', (p) => `sqlserver://sa:${p}@db/orders`],
    ['no scheme', (p) => `sa:${p}@db/orders`],
    ['JDBC, unbraced', (p) => `sqlserver://db:1433;databaseName=orders;user=sa;password=${p}`],
    ['JDBC, unbraced, more after', (p) => `sqlserver://db;user=sa;password=${p};databaseName=orders`],
    ['JDBC, braced', (p) => `sqlserver://db;password={${p.replaceAll('}', '}}')}};databaseName=orders`],
    ['jdbc: prefix', (p) => `jdbc:sqlserver://db:1433;user=sa;password=${p};databaseName=orders`],
    ['ADO.NET', (p) => `Server=db;Database=orders;User Id=sa;Password=${p};`],
    ['ADO.NET, quoted', (p) => `Server=db;Password="${p.replaceAll('"', '""')}";Database=orders`],
    ['query string', (p) => `postgres://db/orders?user=u&password=${encodeURIComponent(p)}&sslmode=require`],
  ];
  const cases = SHAPES.flatMap(([shape, build]) =>
    ODD.map((odd) => [shape, JSON.stringify(odd), build(`Sec1${odd}Ret2`)] as const),
  );
  it.each(cases)('%s with %s in the password keeps it hidden', (_shape, _odd, url) => {
    const redacted = redactUrl(url);
    expect(redacted).toContain(REDACTED);
    expect(redacted).not.toContain('Sec1');
    expect(redacted).not.toContain('Ret2');
  });
});

describe('redactText', () => {
  it('masks URLs quoted in free text and keeps the rest readable', () => {
    expect(
      redactText(
        'connect to mssql://sa:pw@db/orders failed (password=x;user=sa): ECONNREFUSED 10.0.0.1:1433',
      ),
    ).toBe('connect to mssql://sa:***@db/orders failed (password=***;user=sa): ECONNREFUSED 10.0.0.1:1433');
    expect(redactText('cannot reach sqlserver://db;password=a;b: refused')).toBe(
      'cannot reach sqlserver://db;password=*** refused',
    );
  });

  it('leaves text without credentials alone', () => {
    const text = 'ESOCKET (ECONNREFUSED): Failed to connect to 127.0.0.1:1 - Could not connect (sequence)';
    expect(redactText(text)).toBe(text);
    expect(redactText('mail ops@example.com at 12:30')).toBe('mail ops@example.com at 12:30');
  });

  it('masks the secrets of the URLs it is given wherever they appear: raw, decoded, unbraced', () => {
    const urls = ['mssql://sa:p%40ss-word@db/orders', 'sqlserver://db;password={x;y}}z}'];
    expect(redactText('login p%40ss-word / p@ss-word / x;y}z refused', { urls })).toBe(
      'login *** / *** / *** refused',
    );
  });

  it('masks a quoted fragment of a known secret: what a parser names after splitting a password', () => {
    const urls = ['sqlserver://db;databaseName=o;password=first;second'];
    expect(redactText('property "second" has no value; option "databaseName" is fine', { urls })).toBe(
      'property "***" has no value; option "databaseName" is fine',
    );
  });

  it('masks secrets it is told of, but a very short one only where a rule finds it', () => {
    expect(redactText('user sa, password hunter2', { secrets: ['hunter2'] })).toBe('user sa, password ***');
    expect(redactText('a b c', { secrets: ['b', undefined] })).toBe('a b c');
  });
});
