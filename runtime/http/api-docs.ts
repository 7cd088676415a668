/**
 * `GET /openapi.json` and a docs page at `GET /docs`: Swagger UI, served from the `swagger-ui-dist` package
 * (no CDN). In a bundle (`npm run build`) the two asset files sit beside the code in `swagger-ui/`.
 * @module
 */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Env, Hono } from 'hono';

/** The Swagger UI files the page needs. */
export const SWAGGER_UI_ASSETS = ['swagger-ui.css', 'swagger-ui-bundle.js'] as const;

/** Where the Swagger UI files are: beside a bundle, else in the npm package. */
export function swaggerUiDir(): string {
  const bundled = join(dirname(fileURLToPath(import.meta.url)), 'swagger-ui');
  if (existsSync(join(bundled, SWAGGER_UI_ASSETS[1]))) return bundled;
  return dirname(createRequire(import.meta.url).resolve('swagger-ui-dist/package.json'));
}

const PAGE = (title: string) => `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${title}</title>
<link rel="stylesheet" href="/docs/swagger-ui.css">
</head>
<body>
<div id="swagger-ui"></div>
<script src="/docs/swagger-ui-bundle.js"></script>
<script src="/docs/init.js"></script>
</body>
</html>
`;

const INIT =
  "window.ui = SwaggerUIBundle({ url: '/openapi.json', dom_id: '#swagger-ui', deepLinking: true });\n";

/**
 * Serves `spec` at `/openapi.json` and Swagger UI at `/docs`. `spec` is called at the first request for the
 * document (it may load the code that builds it: a process that is never asked pays nothing).
 * @example mountApiDocs(app, () => openApiDocument(functions, { title: 'orderflow', version: '0.1.0' }));
 */
export function mountApiDocs<E extends Env>(
  app: Hono<E>,
  spec: () => object | Promise<object>,
  title = 'orderflow API',
): void {
  let json: string | undefined;
  const files = new Map<string, Promise<Buffer>>();
  app.get('/openapi.json', async (c) => {
    json ??= JSON.stringify(await spec());
    return c.body(json, 200, { 'content-type': 'application/json' });
  });
  app.get('/docs', (c) => c.html(PAGE(title)));
  app.get('/docs/init.js', (c) => c.body(INIT, 200, { 'content-type': 'text/javascript' }));
  for (const file of SWAGGER_UI_ASSETS) {
    app.get(`/docs/${file}`, async (c) => {
      let content = files.get(file);
      if (content === undefined) {
        content = readFile(join(swaggerUiDir(), file));
        files.set(file, content);
      }
      return c.body(new Uint8Array(await content), 200, {
        'content-type': file.endsWith('.css') ? 'text/css' : 'text/javascript',
        'cache-control': 'public, max-age=3600',
      });
    });
  }
}
