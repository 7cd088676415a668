import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'drizzle-orm';
import { afterAll, describe, expect, it } from 'vitest';
import { openServiceDatabases } from './services.ts';

describe('openServiceDatabases', () => {
  const root = mkdtempSync(join(tmpdir(), 'orderflow-services-'));
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it('shares one pool between services with the same URL and opens another for a per-service URL', async () => {
    // pg pools connect lazily, so no server is needed to check which services share one.
    const dbs = await openServiceDatabases(['orders', 'payments', 'audit'], {
      url: 'postgres://u@127.0.0.1:1/shared',
      urls: { audit: 'postgres://u@127.0.0.1:1/audit' },
    });
    expect(dbs.byService.orders).toBe(dbs.byService.payments);
    expect(dbs.byService.audit).not.toBe(dbs.byService.orders);
    expect(dbs.byService.orders.driver).toBe('node-postgres');
    await dbs.close();
    await dbs.close();
  });

  it('gives each service its own PGlite data directory by default', async () => {
    const dbs = await openServiceDatabases(['orders', 'payments'], { dataDir: root });
    expect(dbs.byService.orders).not.toBe(dbs.byService.payments);
    await dbs.byService.orders.db.execute(sql`create table only_in_orders (id int)`);
    await expect(dbs.byService.payments.db.execute(sql`select * from only_in_orders`)).rejects.toThrow();
    expect(existsSync(join(root, 'orders'))).toBe(true);
    expect(existsSync(join(root, 'payments'))).toBe(true);
    await dbs.close();
  }, 120_000); // two PGlite initdb runs: 2–5 s each on an idle machine, far more on a busy one
});
