// The staff's activity page in a real browser: Debian's Chromium driven by Playwright, against
// the local server on a fresh PostgreSQL database with real messages in it (emails to the SMTP
// sink, texts to Prism serving Twilio's description), a delivery report and a failure through
// the signed Twilio webhook, a fallback and a suppression. Signed in with a JWT in the URL
// fragment, used with the keyboard where it matters, checked by axe-core at phone width.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHmac } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { assertAccessible, assertFitsThePhone, launch, need, newPage, startServer } from './support.mjs';

const API_KEY = 'activity-test-key-0123456789';
const JWT_SECRET = 'activity-jwt-secret-0123456789-abcdef';
const AUTH_TOKEN = 'twilio-auth-token-for-the-browser-test';
let server;
let browser;

const unique = () => `${Date.now().toString(36)}${Math.random().toString(36).slice(2, 8)}`;
const phone = () => `+1555${String(Math.floor(Math.random() * 1e7)).padStart(7, '0')}`;

function jwt(claims) {
  const part = (value) => Buffer.from(JSON.stringify(value)).toString('base64url');
  const unsigned = `${part({ alg: 'HS256', typ: 'JWT' })}.${part({ exp: Math.floor(Date.now() / 1000) + 600, ...claims })}`;
  return `${unsigned}.${createHmac('sha256', JWT_SECRET).update(unsigned).digest('base64url')}`;
}

async function api(method, route, body, headers = {}) {
  const answer = await fetch(`${server.base}${route}`, {
    method,
    headers: { Authorization: `Bearer ${API_KEY}`, 'Content-Type': 'application/json', ...headers },
    body: body && JSON.stringify(body),
  });
  const json = await answer.json();
  assert.ok(answer.ok, `${method} ${route}: ${answer.status} ${JSON.stringify(json)}\n${server.log}`);
  return json;
}

// A Twilio status callback, signed as Twilio signs it (HMAC-SHA1 of the URL and the sorted
// parameters under the auth token).
async function twilioReport(params) {
  const url = `${server.base}/api/webhooks/twilio`;
  const data = url + Object.keys(params).sort().map((k) => k + params[k]).join('');
  const signature = createHmac('sha1', AUTH_TOKEN).update(data).digest('base64');
  const answer = await fetch(url, {
    method: 'POST',
    headers: { 'X-Twilio-Signature': signature, 'Content-Type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams(params),
  });
  assert.equal(answer.status, 200, await answer.text());
}

const seeded = {
  fallbackPatient: { email: `ann-${unique()}@example.com`, phone: phone() },
  delivered: phone(),
  failed: phone(),
};

before(async () => {
  const database = `activity_${unique()}`;
  const created = spawnSync('psql', [`${need('NOTIFY_TEST_POSTGRES_URL')}/postgres`, '-qc', `CREATE DATABASE ${database}`]);
  assert.equal(created.status, 0, String(created.stderr));
  server = await startServer((url) => ({
    DATABASE_URL: `${need('NOTIFY_TEST_POSTGRES_URL')}/${database}`,
    NOTIFY_API_KEYS: API_KEY,
    NOTIFY_JWT_SECRET: JWT_SECRET,
    NOTIFY_AUDIT_KEY: 'an-audit-key-for-the-activity-page-test',
    NOTIFY_PUBLIC_URL: url,
    NOTIFY_TIMEZONE: 'America/Chicago',
    SMTP_HOST: '127.0.0.1',
    SMTP_PORT: need('NOTIFY_TEST_SMTP_PORT'),
    SMTP_SECURITY: 'none',
    SMTP_FROM: 'clinic@example.com',
    TWILIO_ACCOUNT_SID: 'AC0123456789abcdef0123456789abcdef',
    TWILIO_AUTH_TOKEN: AUTH_TOKEN,
    TWILIO_PHONE_NUMBER: '+15550001111',
    TWILIO_API_BASE_URL: need('NOTIFY_TEST_PRISM_URL'),
    PRACTICE_NAME: 'Sunrise Family Clinic',
  }));
  browser = await launch();

  // A patient whose number is suppressed: the reminder falls back to email.
  const patient = seeded.fallbackPatient;
  await api('POST', '/api/suppressions', { to: patient.phone, reason: 'unsubscribed' });
  const reminder = await api('POST', '/api/send-notification', {
    template: 'appointmentReminder', to: patient, strategy: 'fallback', channels: ['sms', 'email'],
    data: { client_name: 'Ann', appointment_date: '2026-12-09', appointment_time: '10:30' },
  });
  assert.equal(reminder.reachedBy, 'email', JSON.stringify(reminder));
  // A text delivered (its send retried with the same key), and one that failed, as Twilio
  // reports them.
  for (const [to, report] of [[seeded.delivered, { MessageStatus: 'delivered' }], [seeded.failed, { MessageStatus: 'undelivered', ErrorCode: '30003' }]]) {
    const key = { 'Idempotency-Key': `invoice-${unique()}` };
    const sent = await api('POST', '/api/send-sms', { to, message: 'Your invoice is ready.' }, key);
    const again = await api('POST', '/api/send-sms', { to, message: 'Your invoice is ready.' }, key);
    assert.equal(again.id, sent.id);
    await twilioReport({ MessageSid: sent.messageId, AccountSid: 'AC0123456789abcdef0123456789abcdef', To: to, ...report });
  }
});

after(async () => {
  await browser?.close();
  server?.stop();
});

// Signs in the way the practice app hands over: a JWT in the URL fragment.
async function signedIn(page, claims = { sub: 'staff-7', scope: 'read manage' }) {
  await page.goto('about:blank');
  const answer = await page.goto(`${server.base}/activity#token=${jwt(claims)}`);
  assert.match(answer.headers()['content-security-policy'], /script-src 'self'/);
  return answer;
}

async function search(page, fields) {
  await page.getByRole('button', { name: 'Clear' }).click();
  for (const [label, value] of Object.entries(fields)) {
    if (value === true) await page.getByLabel(label, { exact: true }).check();
    else await page.getByLabel(label, { exact: true }).fill(value);
  }
  await page.getByRole('button', { name: 'Search' }).click();
  await page.getByRole('status').getByText(/message.* shown/).waitFor();
}

test('staff find a patient\'s message, read its story and its fallback, filter failures and export them', async () => {
  const page = await newPage(browser);
  await signedIn(page);
  await page.locator('#message-rows tr').first().waitFor();
  assert.equal(new URL(page.url()).hash, '', 'the token leaves the address bar');
  assert.ok(await page.evaluate(() => sessionStorage.getItem('notify.activitySignIn')), 'kept for this tab');
  await page.getByText('Messages are kept for 400 days').waitFor();
  await assertAccessible(page);
  await assertFitsThePhone(page);

  // By the patient's email: the reminder that went by email instead of text.
  await search(page, { "Patient's email or phone": seeded.fallbackPatient.email });
  const rows = page.locator('#message-rows tr');
  assert.equal(await rows.count(), 1);
  assert.match(await rows.first().textContent(), /a\*\*\*@example\.com.*Appointment reminder.*Email/);
  assert.ok(!(await page.content()).includes(seeded.fallbackPatient.email.split('@')[0]), 'no full address on the page');
  await rows.first().getByRole('button', { name: /^Details/ }).focus();
  await page.keyboard.press('Enter');
  const timeline = page.locator('#timeline');
  await timeline.getByText('Sent instead of another message').waitFor();
  await timeline.getByText('Logged only (demo mode)').or(timeline.getByText('Accepted by smtp')).first().waitFor();
  await assertAccessible(page);
  await timeline.getByRole('button', { name: 'Open the original message' }).click();
  await timeline.getByText('Not sent: on the suppression list').first().waitFor();
  await timeline.getByText('Reason: Unsubscribed.').waitFor();
  await timeline.getByRole('button', { name: 'Open the fallback message' }).waitFor();
  await page.getByRole('button', { name: 'Back to the messages' }).click();

  // The delivered text's report, by the patient's number.
  await search(page, { "Patient's email or phone": seeded.delivered });
  await page.locator('#message-rows tr').first().getByRole('button', { name: /^Details/ }).click();
  await timeline.getByText('Reported: Delivered').waitFor();
  await timeline.getByText('Accepted by twilio').waitFor();
  await timeline.getByText('Asked for again with the same idempotency key').waitFor();
  const order = await timeline.locator('.step-title').allTextContents();
  assert.deepEqual(order.slice(0, 2), ['Requested', 'Accepted by twilio'], order.join(' / '));
  await page.getByRole('button', { name: 'Back to the messages' }).click();

  // Ever failed: the undelivered text, not the delivered one.
  await search(page, { 'Ever failed': true });
  const failed = await page.locator('#message-rows').textContent();
  assert.ok(failed.includes(seeded.failed.slice(-4)), failed);
  assert.ok(!failed.includes(seeded.delivered.slice(-4)), failed);
  const download = page.waitForEvent('download');
  await page.getByRole('button', { name: 'Export CSV' }).click();
  const csv = await readFile(await (await download).path(), 'utf8');
  const lines = csv.trim().split('\r\n');
  assert.equal(lines[0].split(',')[0], '"id"');
  assert.equal(lines.length, 2, csv);
  assert.ok(lines[1].includes(`"'+1******${seeded.failed.slice(-4)}"`), `a masked number is kept as text: ${csv}`);
  assert.ok(lines[1].includes('"failed"'), csv);

  if (process.env.NOTIFY_SCREENSHOTS) {
    await page.getByRole('button', { name: 'Clear' }).click();
    await page.screenshot({ path: path.join(process.env.NOTIFY_SCREENSHOTS, 'activity-phone.png'), fullPage: true });
  }
  assert.deepEqual(page.problems, []);
});

test('the numbers are drawn per day against SES\'s lines, and the suppression list can be lifted', async () => {
  const page = await newPage(browser, 1280);
  await signedIn(page);
  await page.getByRole('button', { name: 'Numbers' }).click();
  await page.locator('#volume-charts svg').first().waitFor();
  assert.equal(await page.locator('#rate-charts svg').count(), 2);
  assert.match(await page.locator('#rate-charts').textContent(), /SES review 5%.*SES pause 10%/);
  await assertAccessible(page);
  if (process.env.NOTIFY_SCREENSHOTS) {
    await page.screenshot({ path: path.join(process.env.NOTIFY_SCREENSHOTS, 'activity-numbers.png'), fullPage: true });
  }

  await page.getByRole('button', { name: 'Suppressions' }).click();
  const masked = `+1******${seeded.fallbackPatient.phone.slice(-4)}`;
  const row = page.locator('#suppression-rows tr', { hasText: masked });
  await row.waitFor();
  await assertAccessible(page);
  await row.getByRole('button', { name: `Lift the suppression of ${masked}` }).click();
  await page.getByRole('status').getByText(`The suppression of ${masked} was lifted.`).waitFor();
  assert.equal(await row.count(), 0, 'the list is read again before the page says so');

  await page.getByRole('button', { name: 'Messages' }).click();
  await page.locator('#message-rows tr').first().waitFor();
  if (process.env.NOTIFY_SCREENSHOTS) {
    await page.screenshot({ path: path.join(process.env.NOTIFY_SCREENSHOTS, 'activity.png') });
  }
  await page.getByRole('button', { name: 'Sign out' }).click();
  await page.getByRole('heading', { name: 'Sign in to see message activity' }).waitFor();
  assert.equal(await page.evaluate(() => sessionStorage.getItem('notify.activitySignIn')), null);
  assert.equal(await page.locator('#message-rows tr').count(), 0, 'nothing is left on the page');
  assert.deepEqual(page.problems, []);
});

test('a sign-in the service refuses brings the sign-in back, and one without read is told so', async () => {
  const page = await newPage(browser);
  await page.goto(`${server.base}/activity#token=${jwt({ sub: 'staff-7', scope: 'read', exp: 1 })}`);
  await page.getByRole('heading', { name: 'Sign in to see message activity' }).waitFor();
  await page.getByRole('status').getByText('Please sign in again').waitFor();
  assert.equal(await page.evaluate(() => sessionStorage.getItem('notify.activitySignIn')), null);
  await assertAccessible(page);

  // A token that may only send reads nothing, and the page says which permission it lacks.
  await signedIn(page, { sub: 'frontend' });
  await page.getByRole('status').getByText('lacks the read permission').waitFor();
  assert.equal(await page.locator('#message-rows tr').count(), 0);

  // An API key pasted by hand, for a one-off look.
  await page.getByRole('button', { name: 'Sign out' }).click();
  await page.getByLabel('Sign-in token or API key').fill(API_KEY);
  await page.keyboard.press('Enter');
  await page.locator('#message-rows tr').first().waitFor();
  // The 401 and 403 the service answered are the only console errors the page may cause.
  assert.ok(page.problems.every((p) => /401|403/.test(p)), page.problems.join('\n'));
});
