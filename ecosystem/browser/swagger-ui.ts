// Swagger UI at /docs in a real browser (Debian's Chromium, headless, driven by playwright-core).
//
// Usage: tsx browser/swagger-ui.ts BASE_URL SPEC OUT_DIR OPERATOR_KEY
//
// Checks that every operation of the spec is listed with its summary, runs create_application
// through "Try it out" with the documented example body (so the example is one the server
// accepts) and sees its 201, authorizes with the operator key and runs list_applications (200,
// the key sent in X-Operator-Key), and saves a screenshot.

import assert from 'node:assert/strict';
import { mkdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

import { chromium, type Locator, type Page } from 'playwright-core';

const [baseUrl, specPath, outDir, operatorKey] = process.argv.slice(2);
assert.ok(baseUrl && specPath && outDir && operatorKey, 'usage: swagger-ui.ts BASE_URL SPEC OUT_DIR OPERATOR_KEY');
const executablePath = process.env.CHROMIUM ?? '/usr/bin/chromium';
const timeout = 15_000;

type Operation = { operationId: string; summary: string; tags: string[] };
const spec: { paths: Record<string, Record<string, Operation>> } = JSON.parse(readFileSync(specPath, 'utf8'));
const operations = Object.values(spec.paths).flatMap((methods) => Object.values(methods));

/** Swagger UI's block for an operation (its id is `operations-<tag>-<operationId>`). */
const block = (page: Page, op: Operation): Locator => page.locator(`[id="operations-${op.tags[0]}-${op.operationId}"]`);
const byId = (id: string): Operation => {
  const op = operations.find((o) => o.operationId === id);
  assert.ok(op, `${id} is in the spec`);
  return op;
};


const browser = await chromium.launch({ executablePath, headless: true, args: ['--no-sandbox'] });
try {
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  page.setDefaultTimeout(timeout);
  await page.goto(`${baseUrl}/docs`);
  await page.locator('.opblock').first().waitFor();

  // Every operation is listed, with its summary.
  for (const op of operations) {
    const summary = block(page, op).locator('.opblock-summary-description');
    assert.equal((await summary.textContent())?.trim(), op.summary, `${op.operationId} listed with its summary`);
  }
  assert.equal(await page.locator('.opblock').count(), operations.length, 'no extra operations');
  console.log(`browser: all ${operations.length} operations listed`);

  // create_application through Try it out, with the example body Swagger UI fills in.
  const create = block(page, byId('create_application'));
  await create.locator('.opblock-summary').first().click();
  await create.locator('button.try-out__btn').click();
  const body = await create.locator('textarea.body-param__text').inputValue();
  assert.deepEqual(JSON.parse(body), { name: 'Support desk' }, 'the request body is the documented example');
  await create.locator('button.execute').click();
  await create.locator('.live-responses-table .response-col_status').filter({ hasText: '201' }).waitFor();
  const answer = await create.locator('.live-responses-table .response-col_description pre').first().textContent();
  const application = JSON.parse(answer ?? '{}');
  assert.equal(application.name, 'Support desk');
  assert.match(application.token, /^[0-9a-f-]{36}$/);
  console.log(`browser: create_application executed: 201, token ${application.token}`);

  // Authorize with the operator key, then list_applications.
  await page.locator('.auth-wrapper button.authorize').click();
  const modal = page.locator('.modal-ux');
  await modal.locator('input').first().fill(operatorKey);
  await modal.locator('button.authorize').click();
  await modal.locator('button.btn-done').click();
  await page.locator('.auth-wrapper button.authorize.locked').waitFor();
  const sent = page.waitForRequest((r) => new URL(r.url()).pathname === '/api/applications' && r.method() === 'GET');
  const list = block(page, byId('list_applications'));
  await list.locator('.opblock-summary').first().click();
  await list.locator('button.try-out__btn').click();
  await list.locator('button.execute').click();
  assert.equal((await sent).headers()['x-operator-key'], operatorKey, 'the operator key is sent');
  await list.locator('.live-responses-table .response-col_status').filter({ hasText: '200' }).waitFor();
  console.log('browser: authorized with the operator key; list_applications executed: 200');

  mkdirSync(outDir, { recursive: true });
  const screenshot = resolve(join(outDir, 'swagger-ui.png'));
  await page.screenshot({ path: screenshot, fullPage: true });
  console.log(`browser: screenshot ${screenshot}`);
} finally {
  await browser.close();
}
