/**
 * Parked outbox rows (rows the relay gave up on, `runtime/outbox/ARCHITECTURE.md`): list them per service and
 * put them back with `republish`, through each store's `OutboxPort`. Behind the CLI and HTTP like the
 * dead-letter tooling.
 * @module
 */
import type { OutboxPort } from '../store.ts';

export interface ParkedRowView {
  id: string;
  eventId: string;
  topic: string;
  key: string;
  failures: number;
  parkedAt: string;
  lastError: string | null;
  createdAt: string;
}

export interface ParkedSummary {
  service: string;
  parked: number;
  /** Unpublished rows, parked ones included: the service's outbox backlog. */
  pending: number;
  rows: ParkedRowView[];
}

export type RepublishRequest = { ids: readonly string[] } | { all: true };

export class UnknownServiceError extends Error {
  override name = 'UnknownServiceError';
}

/** Parked-row operations over the outboxes of `stores` (by service). */
export function outboxOps(stores: Readonly<Record<string, { outbox: OutboxPort }>>) {
  const outbox = (service: string): OutboxPort => {
    const store = stores[service];
    if (store === undefined) {
      throw new UnknownServiceError(
        `unknown service "${service}" (known: ${Object.keys(stores).join(', ')})`,
      );
    }
    return store.outbox;
  };
  return {
    services: Object.keys(stores),
    /** Per service (or the one named): parked and pending counts and up to `limit` parked rows. */
    async listParked(service?: string, limit = 100): Promise<ParkedSummary[]> {
      const chosen = service === undefined ? Object.keys(stores) : [service];
      return Promise.all(
        chosen.map(async (name) => {
          const port = outbox(name);
          const [parked, pending, rows] = await Promise.all([
            port.parkedCount(),
            port.pendingCount(),
            port.listParked({ limit }),
          ]);
          return {
            service: name,
            parked,
            pending,
            rows: rows.map((r) => ({
              id: String(r.id),
              eventId: r.eventId,
              topic: r.topic,
              key: r.key,
              failures: r.failures,
              parkedAt: r.parkedAt.toISOString(),
              lastError: r.lastError,
              createdAt: r.createdAt.toISOString(),
            })),
          };
        }),
      );
    },
    /** Unparks rows of `service`; `dryRun` only counts what would be. Resolves how many. */
    async republish(service: string, request: RepublishRequest, { dryRun = false } = {}): Promise<number> {
      const port = outbox(service);
      if (dryRun) {
        if ('all' in request) return port.parkedCount();
        const parked = new Set((await port.listParked({ limit: 10_000 })).map((r) => String(r.id)));
        return request.ids.filter((id) => parked.has(id)).length;
      }
      return port.republish('all' in request ? { all: true } : { ids: request.ids.map((id) => BigInt(id)) });
    },
  };
}

export type OutboxOps = ReturnType<typeof outboxOps>;
