/**
 * Maps a Hono request onto the core's raw HTTP input. Only the body needs care: it is read (within the body
 * limit) only when the function declares a body schema, must be JSON, and an empty body reads as `undefined`.
 * @module
 */
import type { Context } from 'hono';
import { ValidationError } from '../errors.ts';
import type { HttpRawInput } from '../invoke.ts';
import { isClientAbort } from './errors.ts';

const JSON_TYPE = /^application\/(?:[\w.+-]+\+)?json\s*(?:;|$)/i;

export async function readRawInput(c: Context, wantsBody: boolean): Promise<HttpRawInput> {
  return {
    body: wantsBody ? await readJsonBody(c) : undefined,
    params: c.req.param() as Record<string, string>,
    query: readQuery(c),
    headers: Object.fromEntries(c.req.raw.headers),
  };
}

async function readJsonBody(c: Context): Promise<unknown> {
  let text: string;
  try {
    text = await c.req.text();
  } catch (error) {
    // The client went away mid-body: its doing, not a server error (a 400 nobody reads, logged as a request).
    if (isClientAbort(error))
      throw new ValidationError('Request body incomplete: the connection closed before it was sent', {
        cause: error,
      });
    throw error;
  }
  if (text === '') return undefined;
  const contentType = c.req.header('content-type');
  if (contentType === undefined || !JSON_TYPE.test(contentType)) {
    throw new ValidationError(`Content-Type must be application/json (got ${contentType ?? 'none'})`);
  }
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new ValidationError(`Malformed JSON body: ${(error as Error).message}`, { cause: error });
  }
}

/** A parameter given once is a string; given several times, an array of strings. */
function readQuery(c: Context): Record<string, string | string[]> {
  const query: Record<string, string | string[]> = {};
  for (const [name, values] of Object.entries(c.req.queries())) {
    query[name] = values.length === 1 ? values[0]! : values;
  }
  return query;
}
