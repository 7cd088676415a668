/**
 * The OpenAPI 3.1 document of a set of HTTP functions, generated from their definitions: path, method and
 * description from the manifest, request body / params / query / headers from their zod input schemas (the
 * shape a client sends: `zod-openapi` documents a schema's input side, before transforms), answers from
 * `responses`, and the one error shape (`errors.ts`) for every error status. Nothing is written by hand.
 * @module
 */
import { z } from 'zod';
import { createDocument, type ZodOpenApiOperationObject, type ZodOpenApiPathsObject } from 'zod-openapi';
import type { AnyHttpFunction, HttpResponseDoc } from '../define.ts';

/** What every error answer looks like (`ErrorBody` in errors.ts), as a schema. */
export const errorBodySchema = z
  .object({
    status: z.literal('error'),
    code: z.string().meta({ description: 'Stable machine-readable code, e.g. `validation_failed`' }),
    message: z.string(),
    errors: z
      .array(z.object({ path: z.string(), message: z.string() }))
      .optional()
      .meta({ description: 'Field issues (validation errors only)' }),
    requestId: z.string(),
  })
  .meta({ id: 'Error', description: 'The one error shape of every HTTP answer' });

/** Answers the binding gives for every function, whatever its handler does. */
const BINDING_ANSWERS: Record<number, HttpResponseDoc> = {
  400: { description: 'The request failed validation', errors: ['validation_failed', 'bad_request'] },
  413: { description: 'The body exceeds the limit (64 KiB by default)', errors: ['payload_too_large'] },
  500: { description: 'Unexpected error (logged; nothing leaks)', errors: ['internal'] },
  503: {
    description: 'A dependency (database) is unavailable; `Retry-After` says when to try again',
    errors: ['unavailable', 'timeout'],
    headers: { 'retry-after': 'Seconds to wait before retrying' },
  },
};

export interface OpenApiInfo {
  title: string;
  version: string;
  description?: string;
}

/** Hono's `/orders/:id` is OpenAPI's `/orders/{id}`. */
export const openApiPath = (path: string) => path.replace(/:([A-Za-z0-9_]+)/g, '{$1}');

/**
 * Builds the document.
 * @example
 * const spec = openApiDocument(manifest.filter((fn) => fn.kind === 'http'), { title: 'orderflow', version: '0.1.0' });
 */
export function openApiDocument(functions: readonly AnyHttpFunction[], info: OpenApiInfo) {
  const paths: ZodOpenApiPathsObject = {};
  for (const fn of functions) {
    for (const [index, path] of fn.paths.entries()) {
      const method = fn.method.toLowerCase() as 'get' | 'post' | 'put' | 'patch' | 'delete';
      paths[openApiPath(path)] = { ...paths[openApiPath(path)], [method]: operation(fn, index) };
    }
  }
  return createDocument({
    openapi: '3.1.0',
    info: { ...info },
    paths,
    components: { schemas: { Error: errorBodySchema } },
  });
}

function operation(fn: AnyHttpFunction, index: number): ZodOpenApiOperationObject {
  const { body, params, query, headers } = fn.input;
  const answers: [string, HttpResponseDoc][] = Object.entries({ ...BINDING_ANSWERS, ...fn.responses });
  return {
    // An alias path (compatibility route) is the same function under another operation id.
    operationId: index === 0 ? camel(fn.id) : `${camel(fn.id)}Alias${index}`,
    ...(fn.description === undefined ? {} : { summary: fn.description }),
    tags: [fn.id],
    ...(index === 0 ? {} : { deprecated: true, description: `Alias of ${openApiPath(fn.paths[0]!)}` }),
    ...(params === undefined && query === undefined && headers === undefined
      ? {}
      : {
          requestParams: {
            ...(params === undefined ? {} : { path: params as z.ZodObject }),
            ...(query === undefined ? {} : { query: query as z.ZodObject }),
            ...(headers === undefined ? {} : { header: headers as z.ZodObject }),
          },
        }),
    ...(body === undefined
      ? {}
      : { requestBody: { required: true, content: { 'application/json': { schema: body } } } }),
    responses: Object.fromEntries(
      answers.map(([status, answer]) => [
        status,
        {
          description:
            answer.errors === undefined
              ? answer.description
              : `${answer.description}. Codes: ${answer.errors.map((code) => `\`${code}\``).join(', ')}`,
          ...(answer.headers === undefined
            ? {}
            : {
                headers: z.object(
                  Object.fromEntries(
                    Object.entries(answer.headers).map(([name, description]) => [
                      name,
                      z.string().meta({ description }),
                    ]),
                  ),
                ),
              }),
          content: {
            'application/json': {
              schema: answer.schema ?? errorBodySchema,
              ...(answer.example === undefined ? {} : { example: answer.example }),
            },
          },
        },
      ]),
    ),
  };
}

const camel = (id: string) => id.replace(/-([a-z0-9])/g, (_, c: string) => c.toUpperCase());
