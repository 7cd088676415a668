/**
 * `/docs` renders in headless Chromium (Playwright + the system's `chromium`): Swagger UI, loaded from this
 * server only (any request elsewhere fails the test), shows the order routes of the generated document.
 */
import { existsSync } from 'node:fs';
import pino from 'pino';
import { chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { manifest } from '../../functions/manifest.ts';
import type { AnyHttpFunction, Ports } from '../define.ts';
import { createHttpApp } from './app.ts';
import { listen } from './server.ts';

const executablePath = ['/usr/bin/chromium', '/usr/bin/chromium-browser'].find((path) => existsSync(path));

const title = `GET /docs in headless Chromium${executablePath === undefined ? ' (skipped: no chromium installed)' : ''}`;

describe.skipIf(executablePath === undefined)(title, () => {
  let server: Awaited<ReturnType<typeof listen>>['server'];
  let base: string;

  beforeAll(async () => {
    const app = createHttpApp({
      functions: manifest.filter((fn): fn is AnyHttpFunction => fn.kind === 'http'),
      env: { stores: {}, ports: {} as Ports, clock: () => new Date(), logger: pino({ level: 'silent' }) },
    });
    const listening = await listen({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' });
    server = listening.server;
    base = `http://127.0.0.1:${listening.port}`;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it('shows the order routes, with nothing fetched from anywhere else', async () => {
    const browser = await chromium.launch({ executablePath: executablePath!, args: ['--no-sandbox'] });
    try {
      const page = await browser.newPage();
      const elsewhere: string[] = [];
      await page.route('**/*', (route) => {
        const url = route.request().url();
        if (url.startsWith(base)) return route.continue();
        elsewhere.push(url);
        return route.abort();
      });
      await page.goto(`${base}/docs`);
      await page
        .locator('.opblock-summary-path', { hasText: '/orders/{id}' })
        .first()
        .waitFor({ timeout: 20_000 });
      const paths = await page.locator('.opblock-summary-path').allInnerTexts();
      expect(paths.map((p) => p.trim())).toEqual(expect.arrayContaining(['/orders', '/orders/{id}']));
      expect(await page.locator('.info .title').textContent()).toContain('orderflow');
      expect(elsewhere).toEqual([]);
    } finally {
      await browser.close();
    }
  }, 60_000);
});
