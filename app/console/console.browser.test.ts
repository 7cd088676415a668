/**
 * The console in a real browser: Debian's Chromium (`/usr/bin/chromium`, or `CHROMIUM_PATH`) driven by
 * playwright-core against the whole system (every function, embedded broker, PGlite). Reports itself skipped,
 * in one line, where Chromium is not installed (`apt-get install chromium`). Saves a screenshot to
 * `test-results/console.png`.
 */
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PaymentCompleted } from '../../contracts/events.ts';
import { manifest } from '../../functions/manifest.ts';
import type { RunningBroker } from '../../local/kafka-broker/index.ts';
import { startLocalBroker } from '../../local/local-broker.ts';
import { encodeEvent } from '../../runtime/codec.ts';
import { loadConfig } from '../../runtime/config.ts';
import { createKafkaClient, sharedProducer } from '../../runtime/kafka/client.ts';
import { FAST_CONSUMER, testLogger } from '../../runtime/kafka/test-kit.ts';
import { type RunningSystem, startSystem } from '../system.ts';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const available = existsSync(CHROMIUM);
const TOKEN = 'console-test-token-0123456789';
const ARTIFACT = new URL('../../test-results/console.png', import.meta.url).pathname;

let broker: RunningBroker;
let system: RunningSystem;
let context: BrowserContext;
let page: Page;
let profile: string;
let url: string;

const post = (orderId: string, amount: string) =>
  fetch(`${url}/orders`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ orderId, amount }),
  });

describe.skipIf(!available)(`the console in Chromium (${CHROMIUM})`, () => {
  beforeAll(async () => {
    const logger = testLogger();
    broker = await startLocalBroker({ port: 0, partitions: 1, logger });
    system = await startSystem({
      config: loadConfig({ DATA_DIR: 'memory://', PORT: '0', HOST: '127.0.0.1', TOPIC_PARTITIONS: '1' }),
      functions: manifest,
      brokers: broker.brokers,
      logger,
      consumer: FAST_CONSUMER,
      opsToken: TOKEN,
    });
    await system.host.ready;
    url = system.host.url!;
    const { chromium } = await import('playwright-core');
    profile = mkdtempSync(join(tmpdir(), 'orderflow-chromium-'));
    context = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      headless: true,
      viewport: { width: 1400, height: 1000 },
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-background-networking',
        '--no-first-run',
      ],
    });
    page = context.pages()[0] ?? (await context.newPage());
  }, 120_000);

  afterAll(async () => {
    await context?.close();
    if (profile) rmSync(profile, { recursive: true, force: true });
    await system?.stop();
    await broker?.stop();
  });

  it('shows a new order reaching SHIPPED on its timeline, with lanes per function', async () => {
    const outside: string[] = [];
    page.on('request', (request) => {
      if (!request.url().startsWith(url)) outside.push(request.url());
    });
    expect((await post('console-1', '50')).status).toBe(201);
    await page.goto(`${url}/console#token=${TOKEN}`);
    await page.locator('#orders tr[data-order="console-1"]').click();
    await page.locator('#timeline-status .badge.SHIPPED').waitFor({ timeout: 20_000 });
    await page.locator('#timeline tbody tr.entry.event', { hasText: 'OrderShipped' }).waitFor();
    const lanes = await page.locator('#lanes-svg text').allTextContents();
    expect(lanes).toEqual(expect.arrayContaining(['create-order', 'process-payment', 'ship-order']));
    expect(await page.locator('#lanes-svg .mark.event').count()).toBeGreaterThanOrEqual(3);
    expect(await page.locator('#lanes-svg .mark.attempt').count()).toBeGreaterThanOrEqual(3);
    expect(outside).toEqual([]);
  }, 60_000);

  it('shows a dead letter, redrives it from the page, and the redriven copy is handled', async () => {
    // A PaymentCompleted for an order that does not exist yet: ship-order dead-letters it (order not found).
    const kafka = createKafkaClient({ brokers: broker.brokers, clientId: 'test', logger: testLogger() });
    const producer = sharedProducer(kafka);
    await producer.connect();
    const early = PaymentCompleted.create({
      orderId: 'console-dlq',
      paymentId: 'pay-early',
      amount: '10.00',
      currency: 'USD',
    });
    const record = encodeEvent(early);
    const admin = kafka.admin();
    await admin.connect();
    const dlqEnd = async () =>
      (await admin.fetchTopicOffsets('ship-order.dlq')).reduce((sum, p) => sum + Number(p.high), 0);
    const before = await dlqEnd();
    await producer.send({
      topic: record.topic,
      acks: -1,
      messages: [{ key: record.key, value: record.value, headers: record.headers }],
    });
    await producer.disconnect();
    // Only once ship-order has dead-lettered it may the order exist (else ship-order could simply handle it).
    await expect.poll(dlqEnd, { timeout: 30_000, interval: 200 }).toBeGreaterThan(before);
    await admin.disconnect();
    expect((await post('console-dlq', '10.00')).status).toBe(201);

    const row = page.locator('tr.dlq-entry[data-function="ship-order"]');
    await expectEventually(page, async () => {
      await page.locator('#refresh').click();
      await row.first().waitFor({ timeout: 3_000 });
    });
    await row.locator('button.show').click();
    await expect
      .poll(() => page.locator('#dlq-detail').textContent())
      .toContain('"dlq-function": "ship-order"');
    await row.locator('button.redrive').click();
    await row.locator('.badge.redriven').waitFor({ timeout: 20_000 });

    await page.locator('#orders tr[data-order="console-dlq"]').click();
    await page
      .locator('#timeline tbody tr.entry.attempt', { hasText: 'ship-order.redrive' })
      .filter({ has: page.locator('.badge.handled') })
      .waitFor({ timeout: 20_000 });
    await page.locator('#timeline tbody tr.entry.redrive').waitFor();
    await page.locator('#timeline tbody tr.entry.dead-letter').first().waitFor();
    mkdirSync(new URL('../../test-results/', import.meta.url), { recursive: true });
    await page.screenshot({ path: ARTIFACT, fullPage: true });
    expect(existsSync(ARTIFACT)).toBe(true);
  }, 90_000);
});

/** Retries `step` (which throws until the page shows what it waits for) for up to 30 s. */
async function expectEventually(_page: Page, step: () => Promise<void>): Promise<void> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    try {
      return await step();
    } catch (error) {
      if (Date.now() > deadline) throw error;
    }
  }
}
