/**
 * The store contract suite: one set of tests that every engine's service stores must pass (PGlite always,
 * a PostgreSQL server when `DATABASE_URL` is set, SQL Server later). It talks to the stores only through the
 * ports in `runtime/store.ts`, `db/orders/repo.ts` and `db/payments/repo.ts`, never through SQL.
 * Pattern: drizzle's integration tests (`pg-common.ts` shared by `pglite.test.ts` and `node-postgres.test.ts`).
 * @module
 */
import { afterAll, beforeAll, beforeEach, describe } from 'vitest';
import type { StoreContractEngine } from './contract/fixtures.ts';
import { describeHandOverContract } from './contract/hand-over.contract.ts';
import { describeOrdersRepoContract } from './contract/orders-repo.contract.ts';
import { describeOutboxContract } from './contract/outbox.contract.ts';
import { describePaymentsRepoContract } from './contract/payments-repo.contract.ts';
import { describePruneContract } from './contract/prune.contract.ts';
import { describeTransactionsContract } from './contract/transactions.contract.ts';

export type { StoreContractEngine } from './contract/fixtures.ts';

/**
 * Declares the whole contract suite for one engine. `setup` runs once (in `beforeAll`) and must return both
 * stores over a migrated database; the suite resets it before each test and closes it at the end.
 * @example
 * describeStoreContract('pglite', async () => {
 *   const t = await createTestDatabase();
 *   return { orders: t.orders, payments: t.payments, reset: t.reset, close: t.close };
 * });
 */
export function describeStoreContract(engineName: string, setup: () => Promise<StoreContractEngine>): void {
  describe(`store contract: ${engineName}`, () => {
    let engine: StoreContractEngine | undefined;
    const get = (): StoreContractEngine => {
      if (!engine) throw new Error(`store contract (${engineName}): setup did not complete`);
      return engine;
    };
    beforeAll(async () => {
      engine = await setup();
    });
    beforeEach(() => get().reset());
    afterAll(() => engine?.close());

    describeOrdersRepoContract(get);
    describePaymentsRepoContract(get);
    describeTransactionsContract(get);
    describeOutboxContract(get);
    describeHandOverContract(get);
    describePruneContract(get);
  });
}
