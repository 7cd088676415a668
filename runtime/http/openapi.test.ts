/**
 * The generated OpenAPI document: valid OpenAPI 3.1 (checked by a validator against the official schema),
 * every route of the manifest in it, every example valid against its schema, and served with Swagger UI.
 */
import { Validator } from '@seriousme/openapi-schema-validator';

type SpecData = Parameters<Validator['validate']>[0] & object;

import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { manifest } from '../../functions/manifest.ts';
import type { AnyHttpFunction, Ports } from '../define.ts';
import { createHttpApp, DEFAULT_OPENAPI_INFO } from './app.ts';
import { openApiDocument, openApiPath } from './openapi.ts';

const httpFunctions = manifest.filter((fn): fn is AnyHttpFunction => fn.kind === 'http');
const spec = openApiDocument(httpFunctions, DEFAULT_OPENAPI_INFO);

describe('the OpenAPI document', () => {
  it('is valid OpenAPI 3.1', async () => {
    const result = await new Validator().validate(structuredClone(spec) as unknown as SpecData);
    expect(result.errors).toBeUndefined();
    expect(result.valid).toBe(true);
    expect(spec.openapi).toBe('3.1.0');
  });

  it('would be rejected if broken (the validator does check)', async () => {
    const broken = structuredClone(spec) as unknown as SpecData & {
      paths: Record<string, Record<string, unknown>>;
    };
    delete (broken.paths['/orders']!.post as { responses?: unknown }).responses;
    (broken.paths['/orders/{id}']!.get as { parameters: unknown }).parameters = 'id';
    expect((await new Validator().validate(broken)).valid).toBe(false);
  });

  it('has an operation for every route of the manifest, with its answers', () => {
    const routes = httpFunctions.flatMap((fn) => fn.paths.map((path) => ({ fn, path })));
    expect(routes.length).toBeGreaterThanOrEqual(3);
    for (const { fn, path } of routes) {
      const operation = spec.paths?.[openApiPath(path)]?.[fn.method.toLowerCase() as 'get'];
      expect(operation, `${fn.method} ${path}`).toBeDefined();
      for (const status of [...Object.keys(fn.responses ?? {}), '400', '413', '500', '503'])
        expect(operation?.responses?.[status], `${fn.method} ${path} ${status}`).toBeDefined();
    }
  });

  it('describes the request: body, path parameters and the Idempotency-Key header', () => {
    const post = spec.paths?.['/orders']?.post;
    const body = post?.requestBody as { content: Record<string, { schema: { properties: object } }> };
    expect(Object.keys(body.content['application/json']!.schema.properties)).toEqual(
      expect.arrayContaining(['amount', 'currency', 'orderId']),
    );
    expect(post?.parameters).toContainEqual(
      expect.objectContaining({ in: 'header', name: 'idempotency-key' }),
    );
    expect(spec.paths?.['/orders/{id}']?.get?.parameters).toContainEqual(
      expect.objectContaining({ in: 'path', name: 'id', required: true }),
    );
  });

  it('gives every error answer the one error shape', () => {
    const error = spec.components?.schemas?.Error as { properties: Record<string, unknown> };
    expect(Object.keys(error.properties)).toEqual(['status', 'code', 'message', 'errors', 'requestId']);
    const notFound = spec.paths?.['/orders/{id}']?.get?.responses?.['404'] as {
      content: Record<string, { schema: unknown }>;
    };
    expect(notFound.content['application/json']!.schema).toEqual({ $ref: '#/components/schemas/Error' });
  });

  it.each(
    httpFunctions.flatMap((fn) =>
      Object.entries(fn.responses ?? {})
        .filter(([, answer]) => answer.example !== undefined)
        .map(([status, answer]) => [`${fn.id} ${status}`, answer] as const),
    ),
  )('%s: the example is valid against its schema', (_name, answer) => {
    expect(answer.schema).toBeDefined();
    const parsed = answer.schema!.safeParse(answer.example);
    expect(parsed.error).toBeUndefined();
  });
});

describe('served by the HTTP app', () => {
  const app = createHttpApp({
    functions: httpFunctions,
    env: { stores: {}, ports: {} as Ports, clock: () => new Date(), logger: pino({ level: 'silent' }) },
  });

  it('GET /openapi.json is the document', async () => {
    const response = await app.request('/openapi.json');
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toContain('application/json');
    expect(await response.json()).toEqual(JSON.parse(JSON.stringify(spec)));
  });

  it('GET /docs is Swagger UI from the npm package, no CDN', async () => {
    const page = await (await app.request('/docs')).text();
    expect(page).toContain('<div id="swagger-ui">');
    expect(page).not.toMatch(/https?:\/\//);
    for (const asset of ['/docs/swagger-ui-bundle.js', '/docs/swagger-ui.css', '/docs/init.js']) {
      const response = await app.request(asset);
      expect(response.status, asset).toBe(200);
      expect((await response.arrayBuffer()).byteLength, asset).toBeGreaterThan(10);
    }
  });
});
