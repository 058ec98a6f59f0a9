// The patients' pages in a real browser: Debian's Chromium driven by Playwright, against the
// local server (`notify`) sending through the test suite's SMTP sink. Each page is opened from
// the link in a real email, used with the keyboard at phone width, checked by axe-core (no
// serious or critical finding) and under the pages' Content-Security-Policy (no violation).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import PostalMime from 'postal-mime';
import { assertAccessible, assertFitsThePhone, launch, need, newPage, startServer } from './support.mjs';

const API_KEY = 'browser-test-key-0123456789';
let server;
let base;
let browser;

before(async () => {
  server = await startServer((url) => ({
    SMTP_HOST: '127.0.0.1',
    SMTP_PORT: need('NOTIFY_TEST_SMTP_PORT'),
    SMTP_SECURITY: 'none',
    SMTP_FROM: 'clinic@example.com',
    NOTIFY_API_KEYS: API_KEY,
    NOTIFY_PUBLIC_URL: url,
    NOTIFY_LINK_KEY: 'a-link-key-for-the-browser-tests-0123456789',
    PRACTICE_NAME: 'Sunrise Family Clinic',
    PRACTICE_PHONE: '(555) 010-2000',
  }));
  base = server.base;
  browser = await launch();
});

after(async () => {
  await browser?.close();
  server?.stop();
});

const unique = () => `${Date.now().toString(36)}${Math.random().toString(36).slice(2, 8)}`;

function patient() {
  const digits = String(Math.floor(Math.random() * 1e7)).padStart(7, '0');
  return { email: `pat-${unique()}@example.com`, phone: `+1555${digits}` };
}

async function notify(template, to, data) {
  const answer = await fetch(`${base}/api/send-notification`, {
    method: 'POST',
    headers: { Authorization: `Bearer ${API_KEY}`, 'Content-Type': 'application/json' },
    body: JSON.stringify({ template, to, data }),
  });
  return { status: answer.status, body: await answer.json() };
}

const REMINDER = { client_name: 'Pat', appointment_date: '2026-12-09', appointment_time: '10:30' };
const PAYMENT_FAILED = { client_name: 'Pat', invoice_number: 'INV-9', total_amount: 120 };

// The newest email the SMTP sink holds for `address`, parsed.
async function mailTo(address) {
  const folder = need('NOTIFY_TEST_SMTP_DIR');
  for (let i = 0; i < 50; i += 1) {
    const names = (await readdir(folder)).filter((n) => n.endsWith('.json')).sort().reverse();
    for (const name of names) {
      const envelope = JSON.parse(await readFile(path.join(folder, name), 'utf8'));
      if (envelope.rcpt_tos.includes(address)) {
        return PostalMime.parse(await readFile(path.join(folder, name.replace('.json', '.eml'))));
      }
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`the SMTP sink has no email to ${address}`);
}

const phonePage = () => newPage(browser);

test('the preference page from an email footer changes what the next send does', async () => {
  const to = patient();
  const first = await notify('appointmentReminder', to, REMINDER);
  assert.equal(first.status, 200, JSON.stringify(first.body) + server.log);
  const email = await mailTo(to.email);
  const link = email.text.match(/Choose which messages you get: (\S+)/)?.[1];
  assert.ok(link?.startsWith(`${base}/preferences.html#`), `a preference link in:\n${email.text}`);

  const page = await phonePage();
  const answer = await page.goto(link);
  assert.match(answer.headers()['content-security-policy'], /script-src 'self'/);
  await page.getByRole('switch', { name: /^Text message to/ }).first().waitFor();
  assert.equal(new URL(page.url()).hash, '', 'the token leaves the address bar');
  assert.equal(await page.locator('#practice').textContent(), 'Sunrise Family Clinic');
  assert.equal(await page.locator('#who').textContent(), `p***@example.com and +1******${to.phone.slice(-4)}`);
  assert.ok(!(await page.content()).includes(to.email), 'the page never shows the full address');
  await assertAccessible(page);
  await assertFitsThePhone(page);
  if (process.env.NOTIFY_SCREENSHOTS) await page.screenshot({ path: path.join(process.env.NOTIFY_SCREENSHOTS, 'preferences-phone.png'), fullPage: true });

  // Keyboard only: the sixth switch is appointment reminders by text; then on to Save.
  for (let i = 0; i < 6; i += 1) await page.keyboard.press('Tab');
  assert.equal(await page.evaluate(() => document.activeElement.id), 'choice-care_reminders-sms');
  await page.keyboard.press('Space');
  assert.equal(await page.isChecked('#choice-care_reminders-sms'), false);
  for (let i = 0; i < 3; i += 1) await page.keyboard.press('Tab');
  assert.equal(await page.evaluate(() => document.activeElement.id), 'save');
  await page.keyboard.press('Enter');
  await page.getByText('Saved. Your choices apply from the next message.').waitFor();

  const next = await notify('appointmentReminder', to, REMINDER);
  assert.equal(next.body.sms.rule, 'patient_preference', JSON.stringify(next.body));
  assert.equal(next.body.email.success, true, JSON.stringify(next.body));

  // The choice stands when the page is opened again (the token kept for this tab only).
  await page.reload();
  await page.getByRole('switch', { name: /^Text message to/ }).first().waitFor();
  assert.equal(await page.isChecked('#choice-care_reminders-sms'), false);
  assert.deepEqual(page.problems, []);
});

test('a required category keeps one way on, on the page as in the service', async () => {
  const to = patient();
  await notify('paymentFailed', to, PAYMENT_FAILED);
  const link = (await mailTo(to.email)).text.match(/Choose which messages you get: (\S+)/)[1];
  const page = await phonePage();
  await page.goto(link);
  const alerts = page.getByRole('group', { name: 'Billing alerts' });
  await alerts.getByRole('switch', { name: /^Email to/ }).uncheck();
  await alerts.getByRole('switch', { name: /^Text message to/ }).click();
  assert.equal(await alerts.getByRole('switch', { name: /^Text message to/ }).isChecked(), true);
  await alerts.getByText('At least one way stays on for billing alerts.', { exact: false }).waitFor();
  await assertAccessible(page);
  assert.deepEqual(page.problems, []);
});

test('a link changed on the way says so instead of showing anything', async () => {
  const to = patient();
  await notify('appointmentReminder', to, REMINDER);
  const link = (await mailTo(to.email)).text.match(/Choose which messages you get: (\S+)/)[1];
  const page = await phonePage();
  await page.goto(link.replace('#', '#x'));
  await page.getByText('This link is not valid', { exact: false }).waitFor();
  assert.equal(await page.locator('#choices').isHidden(), true);
  await assertAccessible(page);
  // The 403 the service answers is the only console error the page may cause.
  assert.ok(page.problems.every((p) => p.includes('403')), page.problems.join('\n'));
});

test('the unsubscribe link of an email shows one button, and pressing it unsubscribes', async () => {
  const to = patient();
  await notify('appointmentReminder', { email: to.email }, REMINDER);
  const email = await mailTo(to.email);
  const header = email.headers.find((h) => h.key === 'list-unsubscribe')?.value;
  const url = header?.match(/<([^>]+)>/)?.[1];
  assert.ok(url?.startsWith(`${base}/api/unsubscribe?token=`), `List-Unsubscribe: ${header}`);
  const page = await phonePage();
  await page.goto(url);
  await page.getByRole('heading', { name: 'Unsubscribe' }).waitFor();
  await assertAccessible(page);
  await assertFitsThePhone(page);
  await page.getByRole('button', { name: 'Unsubscribe' }).focus();
  await page.keyboard.press('Enter');
  await page.getByRole('status').getByText('will no longer get appointment reminders by email').waitFor();
  if (process.env.NOTIFY_SCREENSHOTS) await page.screenshot({ path: path.join(process.env.NOTIFY_SCREENSHOTS, 'unsubscribed-phone.png'), fullPage: true });
  await assertAccessible(page);
  const next = await notify('appointmentReminder', { email: to.email }, REMINDER);
  assert.equal(next.status, 422, JSON.stringify(next.body));
  await page.getByRole('link', { name: 'Choose which other messages you get' }).click();
  await page.getByRole('switch', { name: /^Email to/ }).first().waitFor();
  assert.equal(await page.isChecked('#choice-care_reminders-email'), false);
  assert.deepEqual(page.problems, []);
});
