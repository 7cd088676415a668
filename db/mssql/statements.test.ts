/**
 * What can be proved about the SQL Server stores without a server:
 * 1. every statement they issue, rendered by the driver's own dialect (`toSQL()`), is T-SQL of the intended
 *    shape: bracketed identifiers, `@parN` parameters, OUTPUT instead of RETURNING, TOP instead of LIMIT,
 *    the lock hints, insert-or-nothing instead of ON CONFLICT;
 * 2. the stores issue exactly those statements (same builders, run against a recording client), in the
 *    transactions intended, at READ COMMITTED, and decode what the driver returns.
 * Whether SQL Server accepts and honours them is `store.mssql.int.test.ts`'s job (needs a container engine).
 */
import { randomUUID } from 'node:crypto';
import { drizzle } from 'drizzle-orm/node-mssql';
import mssql from 'mssql';
import { beforeEach, describe, expect, it } from 'vitest';
import { AT, newOrder, notification, outboxRecord, payment, shipment } from '../contract/fixtures.ts';
import { ordersAttempts, ordersInbox, ordersOutbox } from '../orders/schema.mssql.ts';
import * as orderStatements from '../orders/statements.mssql.ts';
import { createOrdersStore } from '../orders/store.mssql.ts';
import * as paymentStatements from '../payments/statements.mssql.ts';
import { createPaymentsStore } from '../payments/store.mssql.ts';
import type { MssqlDb } from './connect.ts';
import * as messaging from './messaging-statements.ts';
import { acquireMigrationLockStatement, releaseMigrationLockStatement } from './migrate.ts';
import { createRecordingClient, type RecordedQuery } from './recording-client.ts';

const mock = drizzle.mock() as unknown as MssqlDb;
const ORDER = newOrder({ id: 'ord-Case-1', amountMinor: 2n ** 53n + 1n });
const UPDATE = { status: 'CONFIRMED', paymentStatus: 'PAID', failureReason: null, updatedAt: AT } as const;
const EXPECTED = { status: 'PENDING', paymentStatus: 'NOT_PAID' } as const;
const PAYMENT = payment({ amountMinor: 2n ** 63n - 1n });
const SCOPE = { clientId: '', route: 'POST /orders' };
const LATER = new Date(AT.getTime() + 86_400_000);
const IDEMPOTENCY = {
  ...SCOPE,
  key: 'idem-1',
  requestHash: 'h1',
  orderId: ORDER.id,
  responseStatus: 201,
  responseBody: '{"status":"success"}',
  createdAt: AT,
  expiresAt: LATER,
};
const SHIPMENT = shipment(ORDER.id);
const NOTIFICATION = notification(ORDER.id);

type Rendered = { toSQL(): { sql: string; params: unknown[] } };
const render = (s: Rendered) => s.toSQL();

/** Every statement builder of both stores, the shared outbox/inbox and migrations. */
const STATEMENTS: [string, () => Rendered][] = [
  ['orders.insertOrder', () => orderStatements.insertOrder(mock, ORDER)],
  ['orders.findOrder', () => orderStatements.findOrder(mock, ORDER.id)],
  ['orders.lockOrder', () => orderStatements.lockOrder(mock, ORDER.id)],
  ['orders.updateOrder', () => orderStatements.updateOrder(mock, ORDER.id, EXPECTED, UPDATE)],
  ['orders.lockIdempotencyKey', () => orderStatements.lockIdempotencyKey(mock, SCOPE, 'idem-1')],
  ['orders.findIdempotencyKey', () => orderStatements.findIdempotencyKey(mock, SCOPE, 'idem-1', AT)],
  [
    'orders.deleteExpiredIdempotencyKey',
    () => orderStatements.deleteExpiredIdempotencyKey(mock, SCOPE, 'idem-1', AT),
  ],
  ['orders.insertIdempotencyKey', () => orderStatements.insertIdempotencyKey(mock, IDEMPOTENCY)],
  ['orders.deleteExpiredIdempotencyKeys', () => orderStatements.deleteExpiredIdempotencyKeys(mock, AT, 500)],
  ['orders.insertShipment', () => orderStatements.insertShipment(mock, SHIPMENT)],
  ['orders.findShipment', () => orderStatements.findShipment(mock, ORDER.id)],
  ['orders.insertNotification', () => orderStatements.insertNotification(mock, NOTIFICATION)],
  ['orders.listNotifications', () => orderStatements.listNotifications(mock, ORDER.id)],
  [
    'orders.insertTimeline',
    () => orderStatements.insertTimeline(mock, [{ orderId: ORDER.id, at: AT, entry: '{"kind":"event"}' }]),
  ],
  ['orders.listTimeline', () => orderStatements.listTimeline(mock, ORDER.id, 1000)],
  ['orders.listRecentOrders', () => orderStatements.listRecentOrders(mock, 50, 'PENDING')],
  ['payments.insertPayment', () => paymentStatements.insertPayment(mock, PAYMENT)],
  ['payments.findPaymentByOrder', () => paymentStatements.findPaymentByOrder(mock, PAYMENT.orderId)],
  [
    'outbox.append',
    () => messaging.appendOutboxStatement(mock, ordersOutbox, [outboxRecord(), outboxRecord()]),
  ],
  ['outbox.claimLock', () => messaging.claimLockStatement(mock, ordersOutbox, 10_000)],
  ['outbox.claim', () => messaging.claimOutboxStatement(mock, ordersOutbox, 10, 60_000, 'relay-1')],
  ['outbox.markPublished', () => messaging.markPublishedStatement(mock, ordersOutbox, [1n, 2n], 'relay-1')],
  ['outbox.release', () => messaging.releaseStatement(mock, ordersOutbox, [3n], 'relay-1')],
  [
    'outbox.recordFailure',
    () =>
      messaging.recordFailureStatement(
        mock,
        ordersOutbox,
        { id: 4n, error: 'MESSAGE_TOO_LARGE: …' },
        { owner: 'relay-1', retryInMs: 500, parkAfter: 10 },
      ),
  ],
  ['outbox.pendingCount', () => messaging.pendingCountStatement(mock, ordersOutbox)],
  ['outbox.parkedCount', () => messaging.parkedCountStatement(mock, ordersOutbox)],
  ['outbox.oldestPending', () => messaging.oldestPendingStatement(mock, ordersOutbox)],
  ['outbox.listParked', () => messaging.listParkedStatement(mock, ordersOutbox, 5n, 100)],
  ['outbox.republish', () => messaging.republishStatement(mock, ordersOutbox, [6n])],
  ['outbox.prune', () => messaging.pruneOutboxStatement(mock, ordersOutbox, AT, 1000)],
  ['inbox.record', () => messaging.recordInboxStatement(mock, ordersInbox, 'shipping', randomUUID())],
  ['inbox.prune', () => messaging.pruneInboxStatement(mock, ordersInbox, AT, 1000)],
  ['attempts.prune', () => messaging.pruneAttemptsStatement(mock, ordersAttempts, AT, 1000)],
  ['migrations.lock', () => acquireMigrationLockStatement(mock, 120_000)],
  ['migrations.unlock', () => releaseMigrationLockStatement(mock)],
];

/** `insert … output INSERTED.… select <values> where not exists (… with (updlock, holdlock) where <key>)`. */
const insertOrNothing = (table: string, key: string) =>
  new RegExp(
    `^insert into ${esc(table)} \\([^)]+\\) output INSERTED\\.\\[\\w+\\](, INSERTED\\.\\[\\w+\\])* ` +
      `select @par0(, (@par\\d+|sysutcdatetime\\(\\)))* ` +
      `where not exists \\(select 1 from ${esc(table)} as \\[existing\\] with \\(updlock, holdlock\\) where ${key}\\)$`,
  );
const esc = (text: string) => text.replace(/[[\]().*+?^$|\\]/g, '\\$&');

describe('SQL Server statements, rendered', () => {
  it.each(STATEMENTS)(
    '%s is T-SQL: [brackets], @parN parameters, no LIMIT / RETURNING / ON CONFLICT',
    (_name, build) => {
      const { sql, params } = render(build());
      expect(sql).not.toMatch(/\blimit\b|\breturning\b|\bon conflict\b|\bfor update\b|skip locked|\$\d|"|`/i);
      expect(sql).not.toMatch(/\boffset\b(?![\s\S]*\bfetch\b)/i);
      // Parameters are numbered @par0…@parN-1, each used, one per value.
      const used = new Set([...sql.matchAll(/@par(\d+)/g)].map((m) => Number(m[1])));
      expect([...used].sort((a, b) => a - b)).toEqual(params.map((_, i) => i));
      // Schema-qualified tables, always bracketed.
      expect(sql).not.toMatch(/\b(orders|payments)\.(orders|outbox|inbox|payments|shipments)\b/);
    },
  );

  it('insert-or-nothing: OUTPUT inserted row, NOT EXISTS probe under UPDLOCK, HOLDLOCK on exactly the key', () => {
    const cases: [Rendered, string, string][] = [
      [orderStatements.insertOrder(mock, ORDER), '[orders].[orders]', '\\[existing\\]\\.\\[id\\] = @par8'],
      [
        orderStatements.insertShipment(mock, SHIPMENT),
        '[orders].[shipments]',
        '\\[existing\\]\\.\\[order_id\\] = @par4',
      ],
      [
        orderStatements.insertNotification(mock, NOTIFICATION),
        '[orders].[notifications]',
        '\\[existing\\]\\.\\[order_id\\] = @par6 and \\[existing\\]\\.\\[kind\\] = @par7',
      ],
      [
        paymentStatements.insertPayment(mock, PAYMENT),
        '[payments].[payments]',
        '\\[existing\\]\\.\\[order_id\\] = @par8',
      ],
      [
        messaging.recordInboxStatement(mock, ordersInbox, 'c', randomUUID()),
        '[orders].[inbox]',
        '\\[existing\\]\\.\\[consumer\\] = @par2 and \\[existing\\]\\.\\[event_id\\] = @par3',
      ],
    ];
    for (const [statement, table, key] of cases)
      expect(render(statement).sql).toMatch(insertOrNothing(table, key));
  });

  it('insertOrder writes every column, money as a bigint parameter, and probes the same id', () => {
    const { sql, params } = render(orderStatements.insertOrder(mock, ORDER));
    expect(sql).toBe(
      'insert into [orders].[orders] ([id], [amount_minor], [currency], [status], [payment_status], [failure_reason], [created_at], [updated_at]) ' +
        'output INSERTED.[id], INSERTED.[amount_minor], INSERTED.[currency], INSERTED.[status], INSERTED.[payment_status], INSERTED.[failure_reason], INSERTED.[created_at], INSERTED.[updated_at] ' +
        'select @par0, @par1, @par2, @par3, @par4, @par5, @par6, @par7 ' +
        'where not exists (select 1 from [orders].[orders] as [existing] with (updlock, holdlock) where [existing].[id] = @par8)',
    );
    expect(params).toEqual([ORDER.id, 2n ** 53n + 1n, 'USD', 'PENDING', 'NOT_PAID', null, AT, AT, ORDER.id]);
    expect(typeof params[1]).toBe('bigint');
  });

  it('the inbox row takes its handled_at from the column default, sysutcdatetime()', () => {
    expect(render(messaging.recordInboxStatement(mock, ordersInbox, 'c', 'e')).sql).toContain(
      'select @par0, @par1, sysutcdatetime() where not exists',
    );
  });

  it('an Idempotency-Key is locked by sp_getapplock, owned by the transaction, with @LockTimeout = 0: never a wait', () => {
    const { sql, params } = render(orderStatements.lockIdempotencyKey(mock, SCOPE, 'idem-1'));
    expect(sql).toBe(
      "declare @status int; exec @status = sp_getapplock @Resource = @par0, @LockMode = 'Exclusive', @LockOwner = 'Transaction', @LockTimeout = @par1; select @status as [status]",
    );
    // A fixed-length name whatever the key (sp_getapplock truncates at 255), distinct per route and client.
    expect(params).toEqual([expect.stringMatching(/^orders\.idempotency_keys:[0-9a-f]{64}$/), 0]);
    const resource = (scope: typeof SCOPE, key: string) =>
      render(orderStatements.lockIdempotencyKey(mock, scope, key)).params[0];
    expect(resource(SCOPE, 'k'.repeat(255))).toHaveLength(88);
    expect(
      new Set([
        resource(SCOPE, 'idem-1'),
        resource({ ...SCOPE, route: 'POST /order' }, 'idem-1'),
        resource({ ...SCOPE, clientId: 'c-1' }, 'idem-1'),
        resource(SCOPE, 'idem-2'),
      ]).size,
    ).toBe(4);
  });

  it('idempotency keys: live lookup on the whole key, replace-if-expired, plain insert, bounded prune', () => {
    const key =
      '(([orders].[idempotency_keys].[client_id] = @par0) and ([orders].[idempotency_keys].[route] = @par1) and ([orders].[idempotency_keys].[key] = @par2))';
    const find = render(orderStatements.findIdempotencyKey(mock, SCOPE, 'idem-1', AT));
    expect(find.sql).toMatch(
      /^select \[client_id\], \[route\], \[key\], .* from \[orders\]\.\[idempotency_keys\] where /,
    );
    expect(find.sql).toContain(`where ((${key}) and ([orders].[idempotency_keys].[expires_at] > @par3))`);
    expect(find.params).toEqual(['', 'POST /orders', 'idem-1', AT]);
    expect(render(orderStatements.deleteExpiredIdempotencyKey(mock, SCOPE, 'idem-1', AT))).toEqual({
      sql: `delete from [orders].[idempotency_keys] where ((${key}) and ([orders].[idempotency_keys].[expires_at] <= @par3))`,
      params: ['', 'POST /orders', 'idem-1', AT],
    });
    const insert = render(orderStatements.insertIdempotencyKey(mock, IDEMPOTENCY));
    expect(insert.sql).toMatch(/^insert into \[orders\]\.\[idempotency_keys\] \(.*\) values \(/);
    expect(insert.sql).not.toMatch(/not exists|output/);
    expect(render(orderStatements.deleteExpiredIdempotencyKeys(mock, AT, 500))).toEqual({
      sql: 'delete top (@par0) from [orders].[idempotency_keys] where [expires_at] <= @par1',
      params: [500, AT],
    });
  });

  it('lockOrder reads the row WITH (UPDLOCK, ROWLOCK)', () => {
    expect(render(orderStatements.lockOrder(mock, ORDER.id))).toEqual({
      sql:
        'select [id], [amount_minor], [currency], [status], [payment_status], [failure_reason], [created_at], [updated_at] ' +
        'from [orders].[orders] with (updlock, rowlock) where [id] = @par0',
      params: [ORDER.id],
    });
  });

  it('updateOrder is a compare-and-set on both statuses with OUTPUT INSERTED.[id]', () => {
    const { sql, params } = render(orderStatements.updateOrder(mock, ORDER.id, EXPECTED, UPDATE));
    expect(sql).toBe(
      'update [orders].[orders] set [status] = @par0, [payment_status] = @par1, [failure_reason] = @par2, [updated_at] = @par3 ' +
        'output INSERTED.[id] where (([orders].[orders].[id] = @par4) and ([orders].[orders].[status] = @par5) and ([orders].[orders].[payment_status] = @par6))',
    );
    expect(params).toEqual(['CONFIRMED', 'PAID', null, AT, ORDER.id, 'PENDING', 'NOT_PAID']);
  });

  it('the outbox claim is a TOP … ORDER BY CTE with UPDLOCK, READPAST, ROWLOCK, READCOMMITTEDLOCK, updated through the CTE with OUTPUT', () => {
    const { sql, params } = render(messaging.claimOutboxStatement(mock, ordersOutbox, 25, 30_000, 'relay-1'));
    const columns = [
      'id',
      'event_id',
      'topic',
      'key',
      'value',
      'headers',
      'created_at',
      'published_at',
      'lease_until',
      'attempts',
      'failures',
      'last_error',
      'parked_at',
      'lease_owner',
    ];
    expect(sql).toBe(
      `with [claimable] as (select top (@par0) ${columns.map((c) => `[candidate].[${c}]`).join(', ')} ` +
        'from [orders].[outbox] as [candidate] with (updlock, readpast, rowlock, readcommittedlock) ' +
        'where [candidate].[published_at] is null and [candidate].[parked_at] is null ' +
        'and ([candidate].[lease_until] is null or [candidate].[lease_until] < sysutcdatetime()) ' +
        'and not exists (select 1 from [orders].[outbox] as [earlier] where [earlier].[key] = [candidate].[key] and [earlier].[id] < [candidate].[id] ' +
        'and [earlier].[published_at] is null and ([earlier].[lease_until] >= sysutcdatetime() or [earlier].[parked_at] is not null)) ' +
        'order by [candidate].[id]) ' +
        'update [claimable] set [lease_until] = dateadd(millisecond, @par1, sysutcdatetime()), [attempts] = [attempts] + 1, [lease_owner] = @par2 ' +
        `output ${columns.map((c) => `inserted.[${c}]`).join(', ')}`,
    );
    expect(params).toEqual([25, 30_000, 'relay-1']);
    // Claimed without an owner id, the lease belongs to "no owner".
    expect(render(messaging.claimOutboxStatement(mock, ordersOutbox, 1, 1)).params).toEqual([1, 1, null]);
    // The probe for an earlier leased row of the same key must not skip locked rows.
    expect(sql.match(/readpast/g)).toHaveLength(1);
  });

  it('the claim reads with READCOMMITTEDLOCK, so READPAST is legal with READ_COMMITTED_SNAPSHOT on or off', () => {
    // READPAST is refused under READ COMMITTED when the database has READ_COMMITTED_SNAPSHOT ON, unless the
    // table also has READCOMMITTEDLOCK (SQL Server docs, "Table hints", READPAST).
    const { sql } = render(messaging.claimOutboxStatement(mock, ordersOutbox, 25, 30_000, 'relay-1'));
    expect(sql).toContain('as [candidate] with (updlock, readpast, rowlock, readcommittedlock) ');
    expect(sql.match(/with \([^)]*\)/g)).toEqual(['with (updlock, readpast, rowlock, readcommittedlock)']);
  });

  it('claims are serialised per outbox table by a transaction-owned application lock', () => {
    expect(render(messaging.claimLockStatement(mock, ordersOutbox, 10_000))).toEqual({
      sql: "declare @status int; exec @status = sp_getapplock @Resource = @par0, @LockMode = 'Exclusive', @LockOwner = 'Transaction', @LockTimeout = @par1; select @status as [status]",
      params: ['orders.outbox:claim', 10_000],
    });
    expect(render(acquireMigrationLockStatement(mock, 5_000)).sql).toContain("@LockOwner = 'Session'");
    expect(render(acquireMigrationLockStatement(mock, 5_000)).params).toEqual([
      'orderflow:migrations',
      5_000,
    ]);
  });

  it('appendOutbox inserts through INSERT … SELECT … ORDER BY so identity values follow the given order', () => {
    const records = [outboxRecord({ headers: { a: 'b' } }), outboxRecord({ headers: {} })];
    const { sql, params } = render(messaging.appendOutboxStatement(mock, ordersOutbox, records));
    expect(sql).toBe(
      'insert into [orders].[outbox] ([event_id], [topic], [key], [value], [headers], [lease_owner], [lease_until], [attempts]) ' +
        'output inserted.[id], inserted.[event_id], inserted.[topic], inserted.[key], inserted.[value], inserted.[headers], ' +
        'inserted.[created_at], inserted.[published_at], inserted.[lease_until], inserted.[attempts], inserted.[failures], ' +
        'inserted.[last_error], inserted.[parked_at], inserted.[lease_owner] ' +
        'select [rows].[event_id], [rows].[topic], [rows].[key], [rows].[value], [rows].[headers], ' +
        'case when [rows].[free] = 1 then @par0 end, ' +
        'case when [rows].[free] = 1 then dateadd(millisecond, @par1, sysutcdatetime()) end, ' +
        'case when [rows].[free] = 1 then 1 else 0 end ' +
        'from (select [v].*, case when @par2 is not null and not exists (select 1 from [orders].[outbox] as [earlier] ' +
        'where [earlier].[key] = [v].[key] and [earlier].[published_at] is null) then 1 else 0 end as [free] ' +
        'from (values (@par3, @par4, @par5, @par6, @par7, 0), (@par8, @par9, @par10, @par11, @par12, 1)) ' +
        'as [v] ([event_id], [topic], [key], [value], [headers], [ord])) as [rows] order by [rows].[ord]',
    );
    // No relay attached: the owner is NULL, so no row is leased.
    expect(params.slice(0, 3)).toEqual([null, 0, null]);
    expect(params[7]).toBe('{"a":"b"}');
    expect(params[12]).toBe('{}');
  });

  it('appendOutbox with a lease writes rows leased to the relay unless an earlier unpublished row of their key exists', () => {
    const { sql, params } = render(
      messaging.appendOutboxStatement(mock, ordersOutbox, [outboxRecord()], {
        owner: 'relay-1',
        leaseMs: 30_000,
      }),
    );
    expect(params.slice(0, 3)).toEqual(['relay-1', 30_000, 'relay-1']);
    expect(sql).toContain(
      'case when @par2 is not null and not exists (select 1 from [orders].[outbox] as [earlier] where [earlier].[key] = [v].[key] and [earlier].[published_at] is null) then 1 else 0 end as [free]',
    );
  });

  it('stays under the 2 100-parameter limit: 400 outbox rows per statement; ids go as one JSON parameter', () => {
    const full = Array.from({ length: messaging.OUTBOX_ROWS_PER_STATEMENT }, () => outboxRecord());
    expect(render(messaging.appendOutboxStatement(mock, ordersOutbox, full)).params.length).toBeLessThan(
      2100,
    );
    expect(() => messaging.appendOutboxStatement(mock, ordersOutbox, [...full, outboxRecord()])).toThrow(
      RangeError,
    );
    const ids = Array.from({ length: 5_000 }, (_, i) => BigInt(i + 1));
    const one = render(messaging.markPublishedStatement(mock, ordersOutbox, [1n]));
    const many = render(messaging.markPublishedStatement(mock, ordersOutbox, ids));
    expect(many.sql).toBe(one.sql);
    expect(many.params).toHaveLength(1);
  });

  it('marks published / releases only unpublished rows the caller owns, outputting their ids; counts unpublished rows', () => {
    expect(render(messaging.markPublishedStatement(mock, ordersOutbox, [1n, 2n], 'relay-1'))).toEqual({
      sql:
        'delete from [orders].[outbox] output DELETED.[id] ' +
        'where (([orders].[outbox].[id] in (select cast([value] as bigint) from openjson(@par0))) and (([orders].[outbox].[published_at] is null)) and ([orders].[outbox].[lease_owner] = @par1))',
      params: ['["1","2"]', 'relay-1'],
    });
    expect(render(messaging.markPublishedStatement(mock, ordersOutbox, [1n])).sql).toContain(
      'and (([orders].[outbox].[lease_owner] is null)))',
    );
    expect(render(messaging.releaseStatement(mock, ordersOutbox, [3n], 'relay-1'))).toEqual({
      sql:
        'update [orders].[outbox] set [lease_until] = @par0, [lease_owner] = @par1 output INSERTED.[id] ' +
        'where (([orders].[outbox].[id] in (select cast([value] as bigint) from openjson(@par2))) and (([orders].[outbox].[published_at] is null)) and ([orders].[outbox].[lease_owner] = @par3))',
      params: [null, null, '["3"]', 'relay-1'],
    });
    expect(render(messaging.pendingCountStatement(mock, ordersOutbox)).sql).toBe(
      'select count(*) from [orders].[outbox] where ([orders].[outbox].[published_at] is null)',
    );
  });

  it('a failure is charged in one compare-and-set update: count, error, then a retry delay or parked_at', () => {
    const { sql, params } = render(
      messaging.recordFailureStatement(
        mock,
        ordersOutbox,
        { id: 4n, error: 'boom' },
        { owner: 'relay-1', retryInMs: 500, parkAfter: 10 },
      ),
    );
    // SET expressions all read the row as it was, so `[failures] + 1` is the new count in each CASE.
    expect(sql).toBe(
      'update [orders].[outbox] set [lease_until] = case when [failures] + 1 >= @par0 then null else dateadd(millisecond, @par1, sysutcdatetime()) end, ' +
        '[failures] = [failures] + 1, [last_error] = @par2, [parked_at] = case when [failures] + 1 >= @par3 then sysutcdatetime() end ' +
        'output INSERTED.[id], INSERTED.[parked_at] ' +
        'where (([orders].[outbox].[id] = @par4) and (([orders].[outbox].[published_at] is null)) and (([orders].[outbox].[parked_at] is null)) and ([orders].[outbox].[lease_owner] = @par5))',
    );
    expect(params).toEqual([10, 500, 'boom', 10, 4n, 'relay-1']);
  });

  it('parked rows: counted and listed through the filtered index predicate, republished with failures reset', () => {
    const parked =
      '(([orders].[outbox].[parked_at] is not null)) and (([orders].[outbox].[published_at] is null))';
    expect(render(messaging.parkedCountStatement(mock, ordersOutbox)).sql).toBe(
      `select count(*) from [orders].[outbox] where (${parked})`,
    );
    const listed = render(messaging.listParkedStatement(mock, ordersOutbox, 5n, 100));
    expect(listed.sql).toMatch(
      /^select top\(@par0\) \[id\], .*\[lease_owner\] from \[orders\]\.\[outbox\] where /,
    );
    expect(listed.sql).toContain(
      `(((${parked})) and ([orders].[outbox].[id] > @par1)) order by [orders].[outbox].[id] asc`,
    );
    expect(listed.params).toEqual([100, 5n]);
    const set =
      'set [lease_until] = @par0, [failures] = @par1, [parked_at] = @par2, [lease_owner] = @par3 output INSERTED.[id]';
    expect(render(messaging.republishStatement(mock, ordersOutbox, [6n]))).toEqual({
      sql: `update [orders].[outbox] ${set} where (((${parked})) and ([orders].[outbox].[id] in (select cast([value] as bigint) from openjson(@par4))))`,
      params: [null, 0, null, null, '["6"]'],
    });
    expect(render(messaging.republishStatement(mock, ordersOutbox, 'all')).sql).toBe(
      `update [orders].[outbox] ${set} where (${parked})`,
    );
  });

  it('pruning deletes are bounded (DELETE TOP) and filter on the indexed time column', () => {
    const outbox = render(messaging.pruneOutboxStatement(mock, ordersOutbox, AT, 1000));
    // The explicit IS NOT NULL matches the filtered index outbox_published_at_idx; parked rows are unpublished.
    expect(outbox.sql).toBe(
      'delete top (@par0) from [orders].[outbox] where [published_at] is not null and [published_at] < @par1',
    );
    expect(outbox.params).toEqual([1000, AT]);
    expect(outbox.params[1]).toBeInstanceOf(Date); // sent as datetime2(7) by the driver
    expect(render(messaging.pruneInboxStatement(mock, ordersInbox, AT, 10)).sql).toBe(
      'delete top (@par0) from [orders].[inbox] where [handled_at] < @par1',
    );
    expect(render(messaging.pruneAttemptsStatement(mock, ordersAttempts, AT, 10)).sql).toBe(
      'delete top (@par0) from [orders].[consumer_attempts] where [last_attempt_at] < @par1',
    );
  });

  it('reads use TOP-free typed selects in schema [orders] / [payments]', () => {
    expect(render(orderStatements.listNotifications(mock, ORDER.id)).sql).toMatch(
      /from \[orders\]\.\[notifications\] where .* order by \[orders\]\.\[notifications\]\.\[created_at\] asc, \[orders\]\.\[notifications\]\.\[id\] asc$/,
    );
    expect(render(paymentStatements.findPaymentByOrder(mock, 'o')).sql).toMatch(
      /^select .* from \[payments\]\.\[payments\] where \[payments\]\.\[payments\]\.\[order_id\] = @par0$/,
    );
  });
});

describe('SQL Server stores issue exactly those statements (recording client)', () => {
  const rec = createRecordingClient();
  const orders = createOrdersStore(rec.connection);
  const payments = createPaymentsStore(rec.connection);
  const sent = () => rec.queries().map((q) => ({ sql: q.sql, params: q.params }));
  const expected = (...statements: Rendered[]) => statements.map(render);
  const orderRow = (id: string, amount: string) => [id, amount, 'USD', 'PENDING', 'NOT_PAID', null, AT, AT];
  const isInsert = (q: RecordedQuery) => q.sql.startsWith('insert');
  beforeEach(() => rec.clear());

  it('insertOrder: one insert-or-nothing; decodes the OUTPUT row (bigint beyond 2^53 from the driver string)', async () => {
    rec.respond((q) => (isInsert(q) ? { recordset: [orderRow(ORDER.id, '9007199254740993')] } : undefined));
    const result = await orders.repo.insertOrder(ORDER);
    expect(sent()).toEqual(expected(orderStatements.insertOrder(mock, ORDER)));
    expect(result).toEqual({
      created: true,
      order: { ...ORDER, status: 'PENDING', paymentStatus: 'NOT_PAID', failureReason: null, updatedAt: AT },
    });
    expect(result.order.amountMinor).toBe(9007199254740993n);
  });

  it('insertOrder on a duplicate: the insert outputs nothing, then the winner is read back', async () => {
    rec.respond((q) => (isInsert(q) ? undefined : { recordset: [orderRow(ORDER.id, '5050')] }));
    const result = await orders.repo.insertOrder(ORDER);
    expect(sent()).toEqual(
      expected(orderStatements.insertOrder(mock, ORDER), orderStatements.findOrder(mock, ORDER.id)),
    );
    expect(result.created).toBe(false);
    expect(result.order.amountMinor).toBe(5050n);
  });

  it('a transaction runs at READ COMMITTED, its statements inside it, and commits', async () => {
    rec.respond((q) =>
      q.sql.includes('updlock, rowlock')
        ? {
            recordset: [
              {
                id: ORDER.id,
                amount_minor: '1',
                currency: 'USD',
                status: 'PENDING',
                payment_status: 'NOT_PAID',
                failure_reason: null,
                created_at: AT,
                updated_at: AT,
              },
            ],
          }
        : { recordset: [[ORDER.id]] },
    );
    const result = await orders.transaction(async (tx) => {
      const locked = await tx.repo.lockOrder(ORDER.id);
      const changed = await tx.repo.updateOrder(ORDER.id, EXPECTED, UPDATE);
      return { locked, changed };
    });
    expect(result.locked?.amountMinor).toBe(1n);
    expect(result.changed).toBe(true);
    expect(rec.events.map((e) => e.kind)).toEqual(['begin', 'query', 'query', 'commit']);
    expect(rec.events[0]).toMatchObject({ isolationLevel: mssql.ISOLATION_LEVEL.READ_COMMITTED });
    expect(
      rec.queries().every((q) => q.transaction === rec.queries()[0]!.transaction && q.transaction > 0),
    ).toBe(true);
    expect(sent()).toEqual(
      expected(
        orderStatements.lockOrder(mock, ORDER.id),
        orderStatements.updateOrder(mock, ORDER.id, EXPECTED, UPDATE),
      ),
    );
  });

  it('a throwing callback rolls the transaction back and rethrows', async () => {
    const boom = new Error('handler failed');
    await expect(
      orders.transaction(async (tx) => {
        await tx.appendOutbox([outboxRecord()]);
        throw boom;
      }),
    ).rejects.toBe(boom);
    expect(rec.events.map((e) => e.kind)).toEqual(['begin', 'query', 'rollback']);
  });

  it('updateOrder reports false when the OUTPUT is empty (the expected state was stale)', async () => {
    expect(await orders.repo.updateOrder(ORDER.id, EXPECTED, UPDATE)).toBe(false);
  });

  it('the other orders methods: shipment, notification, list', async () => {
    rec.respond((q) =>
      q.sql.startsWith('insert into [orders].[shipments]')
        ? { recordset: [[ORDER.id, SHIPMENT.trackingId, 'sim-post', AT]] }
        : q.sql.startsWith('select [id], [order_id]')
          ? { recordset: [[NOTIFICATION.id.toUpperCase(), ORDER.id, 'payment-failed', 'email', 'm', AT]] }
          : undefined,
    );
    const shipped = await orders.repo.insertShipment(SHIPMENT);
    const notified = await orders.repo.insertNotification(NOTIFICATION);
    const listed = await orders.repo.listNotifications(ORDER.id);
    expect(shipped).toBe(true);
    expect(notified).toBe(false);
    expect(listed[0]?.id).toBe(NOTIFICATION.id); // upper-case GUID from the driver, lower case to the caller
    expect(sent()).toEqual(
      expected(
        orderStatements.insertShipment(mock, SHIPMENT),
        orderStatements.insertNotification(mock, NOTIFICATION),
        orderStatements.listNotifications(mock, ORDER.id),
      ),
    );
  });

  it.each([
    [0, true],
    [1, true],
    [-1, false],
  ])('tryLockIdempotencyKey: sp_getapplock status %i means %s', async (status, granted) => {
    rec.respond(() => ({ recordset: [{ status }] }));
    expect(await orders.transaction((tx) => tx.repo.tryLockIdempotencyKey(SCOPE, 'idem-1'))).toBe(granted);
    expect(sent()).toEqual(expected(orderStatements.lockIdempotencyKey(mock, SCOPE, 'idem-1')));
  });

  it('tryLockIdempotencyKey: any other status (-999: e.g. no transaction) is an error, not a "no"', async () => {
    rec.respond(() => ({ recordset: [{ status: -999 }] }));
    await expect(orders.repo.tryLockIdempotencyKey(SCOPE, 'idem-1')).rejects.toThrow(/status -999/);
  });

  it('idempotency keys: find decodes the row; save deletes an expired record, then inserts; prune counts', async () => {
    const row = ['', 'POST /orders', 'idem-1', 'h1', ORDER.id, 201, '{"status":"success"}', AT, LATER];
    rec.respond((q) =>
      q.sql.startsWith('select')
        ? { recordset: [row] }
        : q.sql.startsWith('delete top')
          ? { rowsAffected: [37] }
          : undefined,
    );
    expect(await orders.repo.findIdempotencyKey(SCOPE, 'idem-1', AT)).toEqual(IDEMPOTENCY);
    await orders.transaction((tx) => tx.repo.saveIdempotencyKey(IDEMPOTENCY));
    expect(await orders.repo.deleteExpiredIdempotencyKeys(AT, 500)).toBe(37);
    expect(sent()).toEqual(
      expected(
        orderStatements.findIdempotencyKey(mock, SCOPE, 'idem-1', AT),
        orderStatements.deleteExpiredIdempotencyKey(mock, SCOPE, 'idem-1', AT),
        orderStatements.insertIdempotencyKey(mock, IDEMPOTENCY),
        orderStatements.deleteExpiredIdempotencyKeys(mock, AT, 500),
      ),
    );
  });

  it('insertPayment: GUIDs come back lower case, 2^63 - 1 exactly', async () => {
    rec.respond((q) =>
      isInsert(q)
        ? {
            recordset: [
              [
                PAYMENT.id.toUpperCase(),
                PAYMENT.orderId,
                '9223372036854775807',
                'USD',
                'COMPLETED',
                null,
                PAYMENT.providerRef,
                AT,
              ],
            ],
          }
        : undefined,
    );
    expect(await payments.repo.insertPayment(PAYMENT)).toEqual({ created: true, payment: PAYMENT });
    expect(sent()).toEqual(expected(paymentStatements.insertPayment(mock, PAYMENT)));
  });

  it('recordInbox: true when the insert output a row, false on a duplicate', async () => {
    const eventId = randomUUID();
    rec.respond((q) =>
      q.params[0] === 'first' ? { recordset: [['first', eventId.toUpperCase(), AT]] } : undefined,
    );
    const results = await orders.transaction(async (tx) => [
      await tx.recordInbox('first', eventId),
      await tx.recordInbox('again', eventId),
    ]);
    expect(results).toEqual([true, false]);
    expect(sent()).toEqual(
      expected(
        messaging.recordInboxStatement(mock, ordersInbox, 'first', eventId),
        messaging.recordInboxStatement(mock, ordersInbox, 'again', eventId),
      ),
    );
  });

  it('appendOutbox splits into statements of 400 rows, in order, inside the caller transaction', async () => {
    const records = Array.from({ length: 401 }, () => outboxRecord());
    await orders.transaction((tx) => tx.appendOutbox(records));
    expect(rec.events.map((e) => e.kind)).toEqual(['begin', 'query', 'query', 'commit']);
    expect(sent()).toEqual(
      expected(
        messaging.appendOutboxStatement(mock, ordersOutbox, records.slice(0, 400)),
        messaging.appendOutboxStatement(mock, ordersOutbox, records.slice(400)),
      ),
    );
  });

  it('claim: one transaction of claim lock + claim statement; rows decoded and sorted by id', async () => {
    const [a, b] = [outboxRecord(), outboxRecord({ headers: {} })];
    const raw = (id: string, r: typeof a) => ({
      id,
      event_id: r.eventId.toUpperCase(),
      topic: r.topic,
      key: r.key,
      value: r.value,
      headers: JSON.stringify(r.headers),
      created_at: AT,
      published_at: null,
      lease_until: AT,
      attempts: 1,
      failures: 2,
      last_error: 'MESSAGE_TOO_LARGE: …',
      parked_at: null,
      lease_owner: 'relay-1',
    });
    rec.respond((q) =>
      q.sql.includes('sp_getapplock')
        ? { recordset: [{ status: 0 }] }
        : { recordset: [raw('12', b), raw('7', a)] },
    );
    const claimed = await orders.outbox.claim(10, 60_000.4, 'relay-1');
    expect(claimed).toEqual([
      { ...a, id: 7n, createdAt: AT, attempts: 1, failures: 2 },
      { ...b, id: 12n, createdAt: AT, attempts: 1, failures: 2 },
    ]);
    expect(rec.events.map((e) => e.kind)).toEqual(['begin', 'query', 'query', 'commit']);
    expect(rec.events[0]).toMatchObject({ isolationLevel: mssql.ISOLATION_LEVEL.READ_COMMITTED });
    expect(sent()).toEqual(
      expected(
        messaging.claimLockStatement(mock, ordersOutbox, 10_000),
        messaging.claimOutboxStatement(mock, ordersOutbox, 10, 60_001, 'relay-1'),
      ),
    );
  });

  it('with a relay attached, appendOutbox writes rows leased to it and hands the OUTPUT rows over after the commit', async () => {
    const [a, b] = [outboxRecord({ key: 'k-free' }), outboxRecord({ key: 'k-behind' })];
    const raw = (id: string, r: typeof a, leased: boolean) => ({
      id,
      event_id: r.eventId.toUpperCase(),
      topic: r.topic,
      key: r.key,
      value: r.value,
      headers: JSON.stringify(r.headers),
      created_at: AT,
      published_at: null,
      lease_until: leased ? AT : null,
      attempts: leased ? 1 : 0,
      failures: 0,
      last_error: null,
      parked_at: null,
      lease_owner: leased ? 'relay-1' : null,
    });
    rec.respond((q) =>
      q.sql.startsWith('insert into [orders].[outbox]')
        ? { recordset: [raw('4', b, false), raw('3', a, true)] }
        : undefined,
    );
    const handed: { ids: bigint[]; unleased: number; when: number }[] = [];
    const detach = orders.outbox.attach?.({
      owner: 'relay-1',
      leaseMs: 30_000,
      committed: (rows, unleased) =>
        handed.push({ ids: rows.map((r) => r.id), unleased, when: rec.events.length }),
    });
    expect(detach).toBeTypeOf('function');
    await orders.transaction((tx) => tx.appendOutbox([a, b]));
    detach?.();
    expect(rec.events.map((e) => e.kind)).toEqual(['begin', 'query', 'commit']);
    expect(sent()).toEqual(
      expected(
        messaging.appendOutboxStatement(mock, ordersOutbox, [a, b], { owner: 'relay-1', leaseMs: 30_000 }),
      ),
    );
    // After the commit, the leased row only; the other one is left to the claim.
    expect(handed).toEqual([{ ids: [3n], unleased: 1, when: 3 }]);
  });

  it('claim fails (and rolls back) when the claim lock is not granted', async () => {
    rec.respond((q) => (q.sql.includes('sp_getapplock') ? { recordset: [{ status: -1 }] } : undefined));
    await expect(orders.outbox.claim(1, 1000)).rejects.toThrow(
      /claim lock not granted \(sp_getapplock status -1\)/,
    );
    expect(rec.events.map((e) => e.kind)).toEqual(['begin', 'query', 'rollback']);
    await expect(orders.outbox.claim(0, 1000)).rejects.toThrow(RangeError);
  });

  it('markPublished deletes / release updates all ids in one statement and counts the OUTPUT rows; empty lists send nothing; pendingCount reads count(*)', async () => {
    const ids = Array.from({ length: 2001 }, (_, i) => BigInt(i + 1));
    rec.respond((q) =>
      q.sql.startsWith('update') || q.sql.startsWith('delete') ? { recordset: [['1'], ['2']] } : undefined,
    );
    expect(await orders.outbox.markPublished(ids, 'relay-1')).toBe(2);
    expect(await orders.outbox.markPublished([], 'relay-1')).toBe(0);
    expect(await orders.outbox.release([5n], 'relay-1')).toBe(2);
    expect(await orders.outbox.release([])).toBe(0);
    expect(sent()).toEqual(
      expected(
        messaging.markPublishedStatement(mock, ordersOutbox, ids, 'relay-1'),
        messaging.releaseStatement(mock, ordersOutbox, [5n], 'relay-1'),
      ),
    );
    rec.clear();
    rec.respond(() => ({ recordset: [[3]] }));
    expect(await payments.outbox.pendingCount()).toBe(3);
  });

  it('recordFailures: one update per row, the parked ones read from OUTPUT; the retry delay is clamped', async () => {
    rec.respond((q) => (q.params[4] === 8n ? { recordset: [['8', AT]] } : { recordset: [['7', null]] }));
    const options = { owner: 'relay-1', retryInMs: 250.2, parkAfter: 3 };
    const parked = await orders.outbox.recordFailures(
      [
        { id: 7n, error: 'a' },
        { id: 8n, error: 'b' },
      ],
      options,
    );
    expect(parked).toEqual([8n]);
    const statementOptions = { ...options, retryInMs: 251 };
    expect(sent()).toEqual(
      expected(
        messaging.recordFailureStatement(mock, ordersOutbox, { id: 7n, error: 'a' }, statementOptions),
        messaging.recordFailureStatement(mock, ordersOutbox, { id: 8n, error: 'b' }, statementOptions),
      ),
    );
    expect(rec.events.every((e) => e.kind === 'query' && e.transaction === 0)).toBe(true);
  });

  it('listParked decodes rows; republish unparks ids (one statement) or all; parkedCount reads count(*)', async () => {
    rec.respond((q) =>
      q.sql.startsWith('select top')
        ? {
            recordset: [
              ['9', randomUUID().toUpperCase(), 't', 'k', 'v', '{}', AT, null, null, 4, 10, 'boom', AT, null],
            ],
          }
        : q.sql.startsWith('select count')
          ? { recordset: [[1]] }
          : { recordset: [['9']] },
    );
    const [row] = await orders.outbox.listParked({ limit: 5, afterId: 2n });
    expect(row).toMatchObject({
      id: 9n,
      key: 'k',
      attempts: 4,
      failures: 10,
      lastError: 'boom',
      parkedAt: AT,
    });
    expect(await orders.outbox.parkedCount()).toBe(1);
    const ids = Array.from({ length: 1001 }, (_, i) => BigInt(i + 1));
    expect(await orders.outbox.republish({ ids })).toBe(1);
    expect(await orders.outbox.republish({ all: true })).toBe(1);
    expect(sent()).toEqual(
      expected(
        messaging.listParkedStatement(mock, ordersOutbox, 2n, 5),
        messaging.parkedCountStatement(mock, ordersOutbox),
        messaging.republishStatement(mock, ordersOutbox, ids),
        messaging.republishStatement(mock, ordersOutbox, 'all'),
      ),
    );
  });

  it('maintenance.prune: one bounded delete per table, in autocommit, rows affected reported per table', async () => {
    rec.respond((q) => ({
      rowsAffected: [q.sql.includes('[outbox]') ? 1000 : q.sql.includes('[inbox]') ? 7 : 0],
    }));
    const now = new Date('2026-03-08T12:00:00.123Z');
    const windows = { outboxMs: 86_400_000, inboxMs: 7 * 86_400_000, attemptsMs: 7 * 86_400_000 };
    const report = await orders.maintenance!.prune({ now, limit: 1000, windows });
    expect(report).toEqual({ outbox: 1000, inbox: 7, consumer_attempts: 0, idempotency_keys: 0 });
    expect(sent()).toEqual(
      expected(
        messaging.pruneOutboxStatement(mock, ordersOutbox, new Date('2026-03-07T12:00:00.123Z'), 1000),
        messaging.pruneInboxStatement(mock, ordersInbox, new Date('2026-03-01T12:00:00.123Z'), 1000),
        messaging.pruneAttemptsStatement(mock, ordersAttempts, new Date('2026-03-01T12:00:00.123Z'), 1000),
        orderStatements.deleteExpiredIdempotencyKeys(mock, now, 1000),
      ),
    );
    expect(rec.events.every((e) => e.kind === 'query' && e.transaction === 0)).toBe(true);
  });
});

describe('order timeline and recent orders', () => {
  it('page with OFFSET … FETCH NEXT, ordered, and bind the limit', () => {
    const timeline = render(orderStatements.listTimeline(mock, ORDER.id, 1000));
    expect(timeline.sql).toMatch(
      /where .*\[order_timeline\]\.\[order_id\] = @par0 order by .*\[at\] asc, .*\[id\] asc offset @par1 rows fetch next @par2 rows only$/,
    );
    expect(timeline.params).toEqual([ORDER.id, 0, 1000]);
    const recent = render(orderStatements.listRecentOrders(mock, 50, undefined));
    expect(recent.sql).toMatch(
      /order by .*\[created_at\] desc, .*\[id\] desc offset @par0 rows fetch next @par1 rows only$/,
    );
    expect(recent.sql).not.toMatch(/where/);
  });
});

// Keeps the list above complete: a new statement builder must be added to STATEMENTS.
it('STATEMENTS covers every exported statement builder', () => {
  const builders = [
    ...Object.keys(orderStatements).map((k) => `orders.${k}`),
    ...Object.keys(paymentStatements).map((k) => `payments.${k}`),
  ];
  const listed = new Set(STATEMENTS.map(([name]) => name));
  for (const name of builders) expect(listed, name).toContain(name);
  const messagingBuilders = Object.entries(messaging).filter(([, v]) => typeof v === 'function').length;
  expect(STATEMENTS.filter(([n]) => /^(outbox|inbox|attempts)\./.test(n))).toHaveLength(messagingBuilders);
});
