/**
 * `/console`: the operator's page (`assets.ts`), served by `npm start` and by the gateway. Everything it loads
 * comes from the same origin; a Content-Security-Policy says so to the browser.
 * @module
 */
import type { Hono } from 'hono';
import { CONSOLE_CSS, CONSOLE_HTML, CONSOLE_JS } from './assets.ts';

const SECURITY = {
  'content-security-policy':
    "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; connect-src 'self'; frame-ancestors 'none'",
  'x-content-type-options': 'nosniff',
  'cache-control': 'no-cache',
  'referrer-policy': 'no-referrer',
};

/** Serves the console's three files on `app`. */
// biome-ignore lint/suspicious/noExplicitAny: any Hono app (the host's and the gateway's differ in variables)
export function mountConsole(app: Hono<any>): void {
  app.get('/console', (c) =>
    c.body(CONSOLE_HTML, 200, { ...SECURITY, 'content-type': 'text/html; charset=utf-8' }),
  );
  app.get('/console/console.js', (c) =>
    c.body(CONSOLE_JS, 200, { ...SECURITY, 'content-type': 'text/javascript; charset=utf-8' }),
  );
  app.get('/console/console.css', (c) =>
    c.body(CONSOLE_CSS, 200, { ...SECURITY, 'content-type': 'text/css; charset=utf-8' }),
  );
}
