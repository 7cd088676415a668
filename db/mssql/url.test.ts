import { describe, expect, it } from 'vitest';
import { describeTarget, isMssqlUrl, MssqlUrlError, parseMssqlUrl, toPoolConfig } from './url.ts';

const DEFAULTS = {
  port: 1433,
  encrypt: true,
  trustServerCertificate: false,
  connectTimeoutMs: 15_000,
  requestTimeoutMs: 15_000,
  instanceName: undefined,
  appName: 'orderflow',
  poolMax: 10,
};

describe('parseMssqlUrl', () => {
  it.each([
    ['mssql://sa:secret@db.internal:14330/orders?encrypt=true&trustServerCertificate=true'],
    ['sqlserver://sa:secret@db.internal:14330/orders?encrypt=true&trustServerCertificate=true'],
    ['MSSQL://sa:secret@db.internal:14330/orders?Encrypt=TRUE&TrustServerCertificate=yes'],
    [
      'sqlserver://db.internal:14330;databaseName=orders;user=sa;password=secret;encrypt=true;trustServerCertificate=true',
    ],
  ])('reads %s', (url) => {
    expect(parseMssqlUrl(url)).toEqual({
      ...DEFAULTS,
      host: 'db.internal',
      port: 14330,
      database: 'orders',
      user: 'sa',
      password: 'secret',
      trustServerCertificate: true,
    });
  });

  it('applies the defaults: port 1433, encrypt on, certificate checked, 15 s timeouts, 10 connections', () => {
    expect(parseMssqlUrl('mssql://db/orders')).toEqual({
      ...DEFAULTS,
      host: 'db',
      database: 'orders',
      user: undefined,
      password: undefined,
    });
  });

  it('percent-decodes user, password and database; JDBC values may be {braced} to hold a ";"', () => {
    expect(parseMssqlUrl('mssql://app%5Cuser:p%40ss%3Aw%2Frd@h/my%20db')).toMatchObject({
      user: 'app\\user',
      password: 'p@ss:w/rd',
      database: 'my db',
    });
    expect(parseMssqlUrl('sqlserver://h;database=orders;user=sa;password={a;b=c}')).toMatchObject({
      database: 'orders',
      password: 'a;b=c',
    });
  });

  it('reads IPv6 hosts and every option', () => {
    expect(
      parseMssqlUrl(
        'mssql://[::1]:1444/orders?encrypt=false&connectTimeout=2000&requestTimeout=0&appName=relay&poolMax=3&instanceName=SQLEXPRESS',
      ),
    ).toEqual({
      ...DEFAULTS,
      host: '::1',
      port: 1444,
      database: 'orders',
      user: undefined,
      password: undefined,
      encrypt: false,
      connectTimeoutMs: 2000,
      requestTimeoutMs: 0,
      appName: 'relay',
      poolMax: 3,
      instanceName: 'SQLEXPRESS',
    });
  });

  it.each([
    ['postgres://h/db', /must start with mssql:\/\/ or sqlserver:\/\//],
    ['mssql://h', /names no database/],
    ['mssql://h:1433/', /names no database/],
    ['mssql://h/a/b', /single database name/],
    ['mssql://h:99999/db', /not a valid URL|port must be an integer/],
    ['mssql://h/db?encrypt=maybe', /encrypt must be true or false, got "maybe"/],
    ['mssql://h/db?trustServerCertficate=true', /unknown SQL Server URL option "trustServerCertficate"/],
    ['mssql://h/db?poolMax=0', /poolMax must be an integer between 1 and 1000/],
    ['sqlserver://h;user=sa', /names no database/],
    ['sqlserver://h;databaseName', /property "databaseName" has no value/],
  ])('rejects %s', (url, message) => {
    const attempt = () => parseMssqlUrl(url);
    expect(attempt).toThrow(MssqlUrlError);
    expect(attempt).toThrow(message);
  });

  it('never puts the password in an error message', () => {
    try {
      parseMssqlUrl('mssql://sa:TopSecret@h/db?bogus=1');
      expect.unreachable();
    } catch (error) {
      expect((error as Error).message).not.toContain('TopSecret');
    }
  });

  it('recognises the schemes the config accepts for SQL Server', () => {
    expect(isMssqlUrl('mssql://h/db')).toBe(true);
    expect(isMssqlUrl('SqlServer://h/db')).toBe(true);
    expect(isMssqlUrl('postgres://h/db')).toBe(false);
  });
});

describe('toPoolConfig / describeTarget', () => {
  it('builds an mssql pool config in UTC with the URL settings', () => {
    const config = toPoolConfig(
      parseMssqlUrl('mssql://sa:pw@db:1500/orders?trustServerCertificate=true&poolMax=4'),
    );
    expect(config).toEqual({
      server: 'db',
      port: 1500,
      database: 'orders',
      user: 'sa',
      password: 'pw',
      connectionTimeout: 15_000,
      requestTimeout: 15_000,
      pool: { min: 0, max: 4, idleTimeoutMillis: 30_000, acquireTimeoutMillis: 5_000 },
      options: { encrypt: true, trustServerCertificate: true, useUTC: true, appName: 'orderflow' },
    });
  });

  it('leaves the port to SQL Browser for a named instance, and lets options override pool size and timeout', () => {
    const target = parseMssqlUrl('mssql://db/orders?instanceName=SQLEXPRESS');
    const config = toPoolConfig(target, { poolMax: 2, connectTimeoutMs: 500 });
    expect(config.port).toBeUndefined();
    expect(config.options?.instanceName).toBe('SQLEXPRESS');
    expect(config.pool?.max).toBe(2);
    expect(config.connectionTimeout).toBe(500);
    expect(describeTarget(target)).toBe('db\\SQLEXPRESS/orders');
    expect(describeTarget(parseMssqlUrl('mssql://[::1]:1444/x'))).toBe('[::1]:1444/x');
  });
});
