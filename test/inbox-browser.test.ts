/// <reference lib="dom" />
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { assistantMessageItem, outputText, userMessageItem } from '@lead-intake/chatkit-protocol';
import { DynamoThreadStore } from '@lead-intake/thread-store';
import {
  ATTACHMENTS_BUCKET,
  CHAT_THREADS_TABLE,
  clearSes,
  dynamoClient,
  emulator,
  inboxUrl,
  launchChromium,
  leadAuth,
  leadSummary,
  postJson,
  s3Client,
  sesEmails,
  stackUrls,
} from '@lead-intake/testkit';
import type { Browser, Page } from 'playwright-core';

/**
 * The owner's whole path in a real browser (issue 30 §5): a conversation with a photo makes a
 * lead; the owner asks for a sign-in link, which arrives in the SES emulator; opens it, sees the
 * lead in the list, opens its detail (transcript, photo thumbnail), marks it Contacted, sees the
 * numbers change, signs out. axe-core checks the sign-in, list and detail pages (no serious or
 * critical violation), and no page breaks its own Content-Security-Policy. Screenshots (desktop and
 * phone width) go to .local/screenshots, or to docs/ with INBOX_SCREENSHOTS=docs.
 */
const admin = emulator();
const OWNER = 'victor@craigs.autos';
const SHOTS = process.env.INBOX_SCREENSHOTS === 'docs' ? join(__dirname, '..', 'docs') : join(__dirname, '..', '.local', 'screenshots');
// An 8x8 PNG: a photo the browser can really draw.
const PNG = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAgAAAAICAIAAABLbSncAAAAEUlEQVR4nGM4YaOBFTEMLQkAdntLARs7+acAAAAASUVORK5CYII=', 'base64');
const AXE = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');
let browser: Browser;

beforeAll(async () => {
  browser = await launchChromium();
  mkdirSync(SHOTS, { recursive: true });
});
afterAll(async () => {
  await browser?.close();
  await admin.reset();
});

async function conversationWithPhoto(): Promise<{ threadId: string; user: string }> {
  const store = new DynamoThreadStore({ tableName: CHAT_THREADS_TABLE, client: dynamoClient() });
  const threadId = store.generateThreadId();
  const user = `u_inboxBrowser${Date.now().toString(36)}`;
  await store.saveThread(
    { id: threadId, created_at: new Date().toISOString(), status: { type: 'active' }, title: null, metadata: {} },
    user,
  );
  const photo = store.generateItemId('attachment');
  await (
    await s3Client()
  ).send(new PutObjectCommand({ Bucket: ATTACHMENTS_BUCKET, Key: `attachments/${photo}`, Body: PNG, ContentType: 'image/png' }));
  const at = () => new Date().toISOString();
  await store.addThreadItem(
    threadId,
    userMessageItem({
      id: store.generateItemId('message'),
      threadId,
      createdAt: at(),
      content: [{ type: 'input_text', text: 'My Tacoma will not start, photo of the dash attached. Call 408-555-0142.' }],
      attachments: [{ id: photo, type: 'image', name: 'dash.png', mime_type: 'image/png', preview_url: '' }],
    }),
  );
  await store.addThreadItem(
    threadId,
    assistantMessageItem({
      id: store.generateItemId('message'),
      threadId,
      createdAt: at(),
      content: [outputText('We will call you shortly.')],
    }),
  );
  return { threadId, user };
}

/** axe-core in the page (evaluated through the browser's protocol: the page's CSP is not loosened). */
async function accessibility(page: Page): Promise<Array<{ id: string; impact: string; nodes: number }>> {
  await page.evaluate(AXE);
  const result = await page.evaluate(async () => {
    const r = await (window as any).axe.run(document, { resultTypes: ['violations'] });
    return r.violations.map((v: any) => ({ id: v.id, impact: v.impact, nodes: v.nodes.length }));
  });
  return (result as Array<{ id: string; impact: string; nodes: number }>).filter((v) => v.impact === 'serious' || v.impact === 'critical');
}

it('an owner signs in with the emailed link, works a lead to Contacted and sees the numbers change; pages pass axe', async () => {
  await clearSes();
  const c = await conversationWithPhoto();
  await admin.queueOutput(leadSummary({ customer_name: 'Dana Whitfield', project_summary: 'Truck will not start' }));
  expect((await postJson(stackUrls().lead, { threadId: c.threadId, reason: 'pagehide' }, leadAuth(c.threadId, c.user))).body).toEqual({
    sent: true,
    reason: 'sent',
  });

  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const page = await context.newPage();
  const violations: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error' && /Content Security Policy|Refused to/.test(m.text())) violations.push(m.text());
  });
  try {
    // Not signed in: the sign-in page.
    await page.goto(`${inboxUrl()}/`);
    expect(new URL(page.url()).pathname).toBe('/signin');
    expect(await accessibility(page)).toEqual([]);
    await page.screenshot({ path: join(SHOTS, 'inbox-signin.png') });
    await page.fill('#email', OWNER);
    await page.click('button[type=submit]');
    await page.waitForSelector('text=Check your email');

    // The link, from the SES emulator; opening it signs in (its page continues by itself) and shows the list.
    const mail = (await sesEmails()).filter((m) => m.destination.to.includes(OWNER) && m.subject === 'Sign in to the lead inbox').at(-1)!;
    const link = /(http:\/\/\S+\/auth\?token=[A-Za-z0-9_-]+)/.exec(mail.body.text!)![1]!;
    await page.goto(link);
    await page.waitForURL(`${inboxUrl()}/`);
    const row = page.locator(`a[href="/leads/${c.threadId}"]`);
    await expect(row.textContent()).resolves.toContain('Dana Whitfield');
    expect(await accessibility(page)).toEqual([]);
    await page.screenshot({ path: join(SHOTS, 'inbox-list.png') });

    // The numbers before: nobody contacted yet.
    await page.goto(`${inboxUrl()}/numbers`);
    const before = await page.locator('[data-stat="to-contact"]').textContent();

    // The detail: the transcript, the photo thumbnail (loaded through the files function), the contacts as links.
    await page.goto(`${inboxUrl()}/`);
    await row.click();
    await page.waitForURL(`${inboxUrl()}/leads/${c.threadId}`);
    await page.waitForSelector('text=My Tacoma will not start');
    const thumb = page.locator('img[alt="Photo from the customer"]');
    await thumb.waitFor();
    // A lazy image: it loads when it comes into view.
    await thumb.scrollIntoViewIfNeeded();
    await page.waitForFunction(() => {
      const img = document.querySelector<HTMLImageElement>('img[alt="Photo from the customer"]');
      return !!img && img.complete && img.naturalWidth === 8;
    });
    expect(await page.locator('a[href="tel:+14085550142"]').count()).toBeGreaterThan(0);
    expect(await accessibility(page)).toEqual([]);
    await page.screenshot({ path: join(SHOTS, 'inbox-detail.png'), fullPage: true });

    // Contacted: recorded, shown, and the numbers change.
    await page.click('button[name=status][value=contacted]');
    await page.waitForURL(`${inboxUrl()}/leads/${c.threadId}`);
    await expect(page.locator('.head .status').textContent()).resolves.toBe('Contacted');
    await expect(page.locator('.history').textContent()).resolves.toContain(`${OWNER}`);
    await page.goto(`${inboxUrl()}/numbers`);
    const after = await page.locator('[data-stat="to-contact"]').textContent();
    expect(after).not.toBe(before);
    expect(after).toMatch(/^\d+(\.\d)? (min|h|days)$/);

    // Phone width: the list and the detail, large tap targets.
    await page.setViewportSize({ width: 390, height: 844 });
    await page.goto(`${inboxUrl()}/`);
    const box = await page.locator(`a[href="/leads/${c.threadId}"]`).boundingBox();
    expect(box!.height).toBeGreaterThanOrEqual(44);
    expect(box!.width).toBeLessThanOrEqual(390);
    await page.screenshot({ path: join(SHOTS, 'inbox-list-phone.png') });
    await page.goto(`${inboxUrl()}/leads/${c.threadId}`);
    const contacted = await page.locator('button[name=status][value=contacted]').boundingBox();
    expect(contacted!.height).toBeGreaterThanOrEqual(44);
    await page.screenshot({ path: join(SHOTS, 'inbox-detail-phone.png'), fullPage: true });

    // Sign out: the inbox is closed again.
    await page.click('button:text-is("Sign out")');
    await page.waitForURL(/\/signin$/);
    await page.goto(`${inboxUrl()}/`);
    expect(new URL(page.url()).pathname).toBe('/signin');
    expect(violations).toEqual([]);
  } finally {
    await context.close();
  }
}, 120_000);
