import { createTestDatabase } from './postgres/test-database.ts';
import { describeStoreContract } from './store-contract.ts';

describeStoreContract('PGlite (in memory)', async () => {
  const t = await createTestDatabase();
  console.info(`[pglite] test database from ${t.source.kind} in ${t.source.ms} ms`);
  return { orders: t.orders, payments: t.payments, reset: t.reset, close: t.close };
});
