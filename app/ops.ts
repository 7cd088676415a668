/**
 * The ops CLI, the same implementation as HTTP `/ops` (`runtime/ops/`):
 *
 *   ops dlq list [--function ID] [--json]
 *   ops dlq show <function> <entry> [--json]
 *   ops dlq redrive <function> (--entry E … | --all) [--dry-run] [--json]
 *   ops outbox list [--service S] [--json]
 *   ops outbox republish <service> (--id N … | --all) [--dry-run] [--json]
 *   ops lag [--json]
 *
 * `npm run ops -- …` or `node dist/main.js ops …`, with the functions' configuration; `KAFKA_BROKERS` defaults
 * to the embedded broker of `npm start` (127.0.0.1:9092). Dead letters need Kafka only; `outbox` opens the
 * services' databases, so it needs a database server (`DATABASE_URL`…): PGlite files belong to the process
 * that runs them, so against `npm start` use `/ops/outbox/…` over HTTP.
 * @module
 */
import { parseArgs } from 'node:util';
import { openStores, STORE_SERVICES } from '../db/open-stores.ts';
import { type Config, databaseTarget } from '../runtime/config.ts';
import type { Logger } from '../runtime/logger.ts';
import type { DeadLetterEntry } from '../runtime/ops/index.ts';
import { createOpsTooling, type OpsTooling } from './ops-tooling.ts';

export const OPS_USAGE = `usage:
  ops dlq list [--function ID] [--json]
  ops dlq show <function> <entry> [--json]
  ops dlq redrive <function> (--entry E … | --all) [--dry-run] [--json]
  ops outbox list [--service S] [--json]
  ops outbox republish <service> (--id N … | --all) [--dry-run] [--json]
  ops lag [--json]`;

/** The embedded broker of `npm start`, when `KAFKA_BROKERS` is not set. */
export const DEFAULT_OPS_BROKERS = ['127.0.0.1:9092'] as const;

export class OpsUsageError extends Error {
  override name = 'OpsUsageError';
}

export interface OpsIo {
  out: (text: string) => void;
}

/**
 * Runs one ops command. Resolves the exit status (0, or 1 when a redrive skipped something).
 * @throws OpsUsageError on a bad command line.
 */
export async function runOps(
  argv: readonly string[],
  config: Config,
  logger: Logger,
  io: OpsIo,
): Promise<number> {
  const { values, positionals } = parseArgs({
    args: [...argv],
    allowPositionals: true,
    strict: true,
    options: {
      function: { type: 'string' },
      service: { type: 'string' },
      entry: { type: 'string', multiple: true },
      id: { type: 'string', multiple: true },
      all: { type: 'boolean', default: false },
      'dry-run': { type: 'boolean', default: false },
      json: { type: 'boolean', default: false },
    },
  });
  const [area, command, ...args] = positionals;
  const json = values.json === true;
  const print = (value: unknown, text: () => string) =>
    io.out(json ? `${JSON.stringify(value, null, 2)}\n` : text());
  const dryRun = values['dry-run'] === true;
  const usesOutbox = area === 'outbox';
  if (!['dlq', 'outbox', 'lag'].includes(area ?? '')) throw new OpsUsageError(OPS_USAGE);

  let closeStores = async () => {};
  let stores = {};
  if (usesOutbox) {
    const targets = STORE_SERVICES.map((service) => databaseTarget(config, service));
    if (targets.some((t) => t.dialect === 'pglite' && t.dataDir !== undefined)) {
      throw new OpsUsageError(
        'ops outbox: the services use PGlite files, which only the process running them may open; ' +
          'use /ops/outbox/… of that process over HTTP, or set DATABASE_URL',
      );
    }
    const opened = await openStores(STORE_SERVICES, (service) => databaseTarget(config, service), {
      logger: logger.child({ component: 'db' }),
      migrate: false,
    });
    stores = opened.stores;
    closeStores = opened.close;
  }
  const tooling: OpsTooling = await createOpsTooling({
    brokers: config.kafkaBrokers ?? DEFAULT_OPS_BROKERS,
    clientId: config.kafkaClientId,
    logger,
    maxRedrives: config.dlqMaxRedrives,
    stores,
  });
  try {
    if (area === 'lag') {
      const lag = await tooling.deadLetters.lag();
      print(lag, () =>
        lag
          .flatMap((g) => g.partitions.map((p) => `${g.groupId}\t${p.topic}[${p.partition}]\tlag ${p.lag}\n`))
          .join(''),
      );
      return 0;
    }
    if (area === 'dlq' && command === 'list') {
      const summaries = await tooling.deadLetters.list(values.function);
      print(summaries, () =>
        summaries
          .map(
            (s) =>
              `${s.functionId}: ${s.count} dead letter(s), ${s.pending} not redriven\n${s.entries.map(entryLine).join('')}`,
          )
          .join(''),
      );
      return 0;
    }
    if (area === 'dlq' && command === 'show') {
      const [fn, entry] = args;
      if (fn === undefined || entry === undefined) throw new OpsUsageError(OPS_USAGE);
      const detail = await tooling.deadLetters.show(fn, entry);
      print(detail, () => `${JSON.stringify(detail, null, 2)}\n`);
      return 0;
    }
    if (area === 'dlq' && command === 'redrive') {
      const [fn] = args;
      const entries = values.entry ?? [];
      if (fn === undefined || (entries.length === 0) === (values.all !== true))
        throw new OpsUsageError(OPS_USAGE);
      const target = values.all === true ? { all: true as const } : { entries };
      const results = await tooling.deadLetters.redrive(fn, target, { dryRun });
      print(
        { dryRun, results },
        () =>
          results.map((r) => `${r.entry}\t${r.outcome}\t${r.detail}\n`).join('') || 'nothing to redrive\n',
      );
      return results.some((r) => r.outcome === 'skipped') ? 1 : 0;
    }
    if (area === 'outbox' && command === 'list') {
      const parked = await tooling.outbox.listParked(values.service);
      print(parked, () =>
        parked
          .map(
            (s) =>
              `${s.service}: ${s.parked} parked, ${s.pending} pending\n${s.rows
                .map((r) => `  ${r.id}\t${r.topic}\t${r.key}\t${r.failures} failures\t${r.lastError ?? ''}\n`)
                .join('')}`,
          )
          .join(''),
      );
      return 0;
    }
    if (area === 'outbox' && command === 'republish') {
      const [service] = args;
      const ids = values.id ?? [];
      if (service === undefined || (ids.length === 0) === (values.all !== true))
        throw new OpsUsageError(OPS_USAGE);
      const count = await tooling.outbox.republish(service, values.all === true ? { all: true } : { ids }, {
        dryRun,
      });
      print(
        { dryRun, republished: count },
        () => `${dryRun ? 'would republish' : 'republished'} ${count} row(s)\n`,
      );
      return 0;
    }
    throw new OpsUsageError(OPS_USAGE);
  } finally {
    await tooling.close();
    await closeStores();
  }
}

function entryLine(e: DeadLetterEntry): string {
  const where = `${e.originalTopic ?? '?'}[${e.originalPartition ?? '?'}]@${e.originalOffset ?? '?'}`;
  const mark = e.redriven === null ? '' : `  REDRIVEN ${e.redriven.at}`;
  return `  ${e.entry}\t${where}\tkey=${e.key ?? ''}\t${e.eventType ?? '?'} ${e.eventId ?? '?'}\t${e.kind ?? ''}: ${e.reason ?? ''}\tattempts=${e.attempts ?? '?'}\t${e.firstFailedAt ?? ''} .. ${e.lastFailedAt ?? ''}${mark}\n`;
}
