/**
 * The ops tooling over HTTP, under `/ops`, behind a bearer token (`OPS_TOKEN`). Mounted only when a token is
 * configured (`mountOps` does nothing without one); a request without the token, or with another, is a 401 and
 * does nothing. The same operations as the CLI (`app/ops.ts`), the same implementation:
 *
 *   GET  /ops/dlq[?function=ID]                       dead letters per function
 *   GET  /ops/dlq/:function/:entry                    one entry: headers and decoded payload
 *   POST /ops/dlq/:function/redrive                   {"entries":["0:3"]} | {"all":true}, "dryRun":true optional
 *   GET  /ops/outbox/parked[?service=S]               parked outbox rows per service
 *   POST /ops/outbox/:service/republish               {"ids":["12"]} | {"all":true}, "dryRun":true optional
 *   GET  /ops/lag                                     consumer-group lag per partition
 * @module
 */
import { timingSafeEqual } from 'node:crypto';
import { type Context, Hono, type MiddlewareHandler } from 'hono';
import { type Logger, pino } from 'pino';
import { z } from 'zod';
import { NotFoundError, ValidationError } from '../errors.ts';
import { problemResponse, toProblem } from '../http/errors.ts';
import type { HttpVariables } from '../http/request-context.ts';
import { type DeadLetterOps, UnknownEntryError, UnknownFunctionError } from './dead-letters.ts';
import { type OutboxOps, UnknownServiceError } from './outbox.ts';

export interface OpsHttpOptions {
  /** The bearer token; without one nothing is mounted. */
  token: string | undefined;
  deadLetters: DeadLetterOps;
  outbox: OutboxOps;
  /** Where unexpected errors are logged (default: nowhere). */
  logger?: Logger;
}

type App = Hono<{ Variables: HttpVariables }>;

/** Every route `mountOps` serves (a gateway configured to forward `/ops` declares these). */
export const OPS_ROUTES = [
  { method: 'GET', path: '/ops/dlq' },
  { method: 'GET', path: '/ops/dlq/:function/:entry' },
  { method: 'POST', path: '/ops/dlq/:function/redrive' },
  { method: 'GET', path: '/ops/outbox/parked' },
  { method: 'POST', path: '/ops/outbox/:service/republish' },
  { method: 'GET', path: '/ops/lag' },
] as const;

const targetSchema = z.union([
  z.object({ entries: z.array(z.string().regex(/^(\d+:)?\d+$/)).min(1), dryRun: z.boolean().optional() }),
  z.object({ all: z.literal(true), dryRun: z.boolean().optional() }),
]);
const republishSchema = z.union([
  z.object({ ids: z.array(z.string().regex(/^\d+$/)).min(1), dryRun: z.boolean().optional() }),
  z.object({ all: z.literal(true), dryRun: z.boolean().optional() }),
]);

/** A middleware answering 401 unless `Authorization: Bearer <token>` carries exactly `token`. */
export function bearerToken(token: string): MiddlewareHandler<{ Variables: HttpVariables }> {
  const expected = Buffer.from(token);
  return async (c, next) => {
    const given = Buffer.from(/^Bearer (.+)$/i.exec(c.req.header('authorization') ?? '')?.[1] ?? '');
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
      return problemResponse(c, {
        status: 401,
        code: 'unauthorized',
        message: 'A valid ops token is required (Authorization: Bearer <OPS_TOKEN>)',
        headers: { 'www-authenticate': 'Bearer realm="ops"' },
      });
    }
    await next();
  };
}

/** Mounts `/ops/*` on `app` when `options.token` is set; returns whether it did. */
export function mountOps(app: App, options: OpsHttpOptions): boolean {
  if (options.token === undefined) return false;
  const { deadLetters, outbox } = options;
  const log = options.logger ?? pino({ level: 'silent' });
  // Its own error handler, so the routes answer in the one error shape wherever they are mounted.
  const ops: App = new Hono<{ Variables: HttpVariables }>();
  ops.onError((error, c) => problemResponse(c, toProblem(error, log)));
  ops.use('*', bearerToken(options.token));

  ops.get('/dlq', async (c) => c.json(await known(() => deadLetters.list(c.req.query('function')))));
  ops.get('/dlq/:function/:entry', async (c) =>
    c.json(await known(() => deadLetters.show(c.req.param('function'), c.req.param('entry')))),
  );
  ops.post('/dlq/:function/redrive', async (c) => {
    const body = await parseBody(c, targetSchema);
    const target = 'all' in body ? { all: true as const } : { entries: body.entries };
    const results = await known(() =>
      deadLetters.redrive(c.req.param('function'), target, { dryRun: body.dryRun === true }),
    );
    return c.json({ dryRun: body.dryRun === true, results });
  });
  ops.get('/outbox/parked', async (c) =>
    c.json(await known(() => outbox.listParked(c.req.query('service')))),
  );
  ops.post('/outbox/:service/republish', async (c) => {
    const body = await parseBody(c, republishSchema);
    const request = 'all' in body ? { all: true as const } : { ids: body.ids };
    const count = await known(() =>
      outbox.republish(c.req.param('service'), request, { dryRun: body.dryRun === true }),
    );
    return c.json({ dryRun: body.dryRun === true, republished: count });
  });
  ops.get('/lag', async (c) => c.json(await deadLetters.lag()));
  app.route('/ops', ops);
  return true;
}

async function parseBody<T>(c: Context, schema: z.ZodType<T>): Promise<T> {
  const json: unknown = await c.req.json().catch(() => {
    throw new ValidationError('the body must be JSON');
  });
  const parsed = schema.safeParse(json);
  if (!parsed.success)
    throw new ValidationError(`invalid body: ${parsed.error.issues[0]?.message ?? 'invalid'}`);
  return parsed.data;
}

/** Unknown function, entry or service → 404. */
async function known<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    if (
      error instanceof UnknownFunctionError ||
      error instanceof UnknownEntryError ||
      error instanceof UnknownServiceError
    ) {
      throw new NotFoundError(error.message, { cause: error });
    }
    throw error;
  }
}
