// The activity page for practice staff: the message log with its filters, one message's story,
// the numbers per day, and the suppression list. The sign-in (a JWT from the practice app, or
// an API key pasted for a one-off look) arrives in the URL fragment, which browsers never send
// to a server, moves to this tab's sessionStorage and out of the address bar, and goes to the
// API only in the Authorization header. Everything shown is set as text, never as HTML.
'use strict';

const STORED = 'notify.activitySignIn';
const STATUSES = {
  scheduled: 'Scheduled', cancelled: 'Cancelled', logged: 'Logged (demo)', sent: 'Sent',
  delayed: 'Delayed', delivered: 'Delivered', bounced: 'Bounced', failed: 'Failed',
  read: 'Read', complained: 'Marked as spam', opted_out: 'Opted out',
  suppressed: 'Not sent: suppressed', declined: 'Not sent: declined',
};
const TONES = {
  delivered: 'good', read: 'good', sent: 'neutral', logged: 'neutral', delayed: 'warn',
  scheduled: 'neutral', cancelled: 'muted', bounced: 'bad', failed: 'bad', complained: 'bad',
  opted_out: 'warn', suppressed: 'warn', declined: 'warn',
};
const CATEGORIES = {
  billing_alerts: 'Billing alerts', billing_receipts: 'Receipts and invoices',
  care_reminders: 'Appointment reminders', documents: 'Documents',
};
const CHANNELS = { email: 'Email', sms: 'Text message' };
const REASONS = {
  manual: 'Practice decision', unsubscribed: 'Unsubscribed', invalid_recipient: 'Wrong address or number',
  hard_bounce: 'Hard bounce', complaint: 'Marked as spam', stop: 'Replied STOP',
  carrier_blocked: 'Blocked by the carrier', preference: "The patient's choice",
};
const SVG = 'http://www.w3.org/2000/svg';

const $ = (id) => document.getElementById(id);
let credential = null;
let zone = 'UTC';
let cursor = null;
let shownQuery = '';
// Only the newest search's answer is shown (an earlier one may answer after it).
let searches = 0;

// --- signing in and calling the API ---

function takeCredential() {
  const fragment = decodeURIComponent(location.hash.slice(1));
  if (fragment) {
    history.replaceState(null, '', location.pathname);
    const value = fragment.startsWith('token=') ? fragment.slice(6) : fragment;
    sessionStorage.setItem(STORED, value);
    return value;
  }
  return sessionStorage.getItem(STORED);
}

function say(text, tone) {
  const status = $('status');
  status.className = tone || '';
  status.textContent = text;
}

class ApiError extends Error {
  constructor(status, body) {
    super(body.error || `The service answered ${status}.`);
    this.status = status;
    this.code = body.code;
    this.hint = body.hint;
  }
}

async function call(path, options = {}) {
  const headers = { Authorization: `Bearer ${credential}` };
  if (options.body) headers['Content-Type'] = 'application/json';
  const answer = await fetch(path, {
    method: options.method || 'GET',
    headers,
    body: options.body && JSON.stringify(options.body),
    credentials: 'omit',
  });
  if (answer.status === 401) {
    const body = await answer.json().catch(() => ({}));
    signOut(`Please sign in again: ${body.error || 'the sign-in was not accepted.'}`);
    throw new ApiError(401, body);
  }
  if (options.raw && answer.ok) return answer;
  const body = await answer.json().catch(() => ({}));
  if (!answer.ok) throw new ApiError(answer.status, body);
  return body;
}

function signOut(message, tone = 'bad') {
  sessionStorage.removeItem(STORED);
  credential = null;
  $('sections').hidden = true;
  for (const panel of document.querySelectorAll('[data-panel], #detail')) panel.hidden = true;
  $('message-rows').replaceChildren();
  $('suppression-rows').replaceChildren();
  $('sign-in').hidden = false;
  say(message || 'You are signed out.', message ? tone : '');
  $('credential').value = '';
  $('credential').focus();
}

function failed(error, where) {
  if (error.status === 401) return;
  const hint = error.hint ? ` ${error.hint}` : '';
  say(`${where}: ${error.message}${hint}`, 'bad');
}

// --- formatting ---

function when(text) {
  if (!text) return '';
  const date = new Date(text);
  if (Number.isNaN(date.getTime())) return text;
  return new Intl.DateTimeFormat(undefined, {
    timeZone: zone, dateStyle: 'medium', timeStyle: 'short',
  }).format(date);
}

// A table cell that names its column, for the phone layout (a card per row).
function cell(label, content) {
  const node = document.createElement('td');
  node.dataset.label = label;
  if (typeof content === 'string') node.textContent = content;
  else node.append(content);
  return node;
}

function element(tag, text, className) {
  const node = document.createElement(tag);
  if (text !== undefined && text !== null) node.textContent = text;
  if (className) node.className = className;
  return node;
}

function badge(status) {
  return element('span', STATUSES[status] || status, `badge ${TONES[status] || 'neutral'}`);
}

// `appointmentReminder` as "Appointment reminder".
function templateName(name) {
  if (!name) return '—';
  const words = name.replace(/([A-Z])/g, ' $1').toLowerCase();
  return words.charAt(0).toUpperCase() + words.slice(1);
}

function recipientsOf(message) {
  return message.recipients.map((r) => r.masked).join(', ');
}

// The practice's zone's offset from UTC at `instant`, in minutes.
function offsetMinutes(instant) {
  const parts = Object.fromEntries(new Intl.DateTimeFormat('en-US', {
    timeZone: zone, hourCycle: 'h23', year: 'numeric', month: 'numeric', day: 'numeric',
    hour: 'numeric', minute: 'numeric',
  }).formatToParts(instant).map((p) => [p.type, Number(p.value)]));
  const wall = Date.UTC(parts.year, parts.month - 1, parts.day, parts.hour, parts.minute);
  return Math.round((wall - instant.getTime()) / 60000);
}

// The start of a day in the practice's zone, as an RFC 3339 time (the API's filters).
function startOfDay(day) {
  const offset = offsetMinutes(new Date(`${day}T12:00:00Z`));
  return new Date(Date.parse(`${day}T00:00:00Z`) - offset * 60000).toISOString();
}

// --- the messages ---

function filterQuery() {
  const form = new FormData($('filters'));
  const query = new URLSearchParams();
  for (const [name, value] of form) {
    const text = String(value).trim();
    if (!text) continue;
    if (name === 'since') query.set('since', startOfDay(text));
    else if (name === 'until') {
      const next = new Date(Date.parse(`${text}T00:00:00Z`) + 86400000).toISOString().slice(0, 10);
      query.set('until', startOfDay(next));
    } else query.set(name, text);
  }
  return query;
}

async function loadMessages(more) {
  const query = more ? new URLSearchParams(shownQuery) : filterQuery();
  if (!more) shownQuery = query.toString();
  if (more && cursor) query.set('cursor', cursor);
  const search = more ? searches : ++searches;
  if (!more) say('Searching…');
  try {
    const page = await call(`/api/messages?${query}`);
    if (search !== searches) return;
    const rows = $('message-rows');
    if (!more) rows.replaceChildren();
    for (const message of page.messages) rows.append(messageRow(message));
    cursor = page.nextCursor;
    $('more').hidden = !cursor;
    $('no-messages').hidden = rows.children.length > 0;
    say(more ? '' : `${rows.children.length} message${rows.children.length === 1 ? '' : 's'} shown${cursor ? ', more below' : ''}.`);
  } catch (error) {
    failed(error, 'The messages could not be loaded');
  }
}

function messageRow(message) {
  const row = document.createElement('tr');
  row.append(
    cell('Time', when(message.createdAt)),
    cell('Recipient', recipientsOf(message)),
    cell('Template', templateName(message.template)),
    cell('Channel', CHANNELS[message.channel] || message.channel),
    cell('Status', badge(message.status)),
  );
  const open = element('button', 'Details', 'link');
  open.type = 'button';
  open.setAttribute('aria-label', `Details of the ${CHANNELS[message.channel] || message.channel} to ${recipientsOf(message)}, ${when(message.createdAt)}`);
  open.addEventListener('click', () => openMessage(message.id));
  row.append(cell('', open));
  return row;
}

async function exportCsv() {
  const query = filterQuery();
  query.set('format', 'csv');
  try {
    const answer = await call(`/api/messages?${query}`, { raw: true });
    const blob = await answer.blob();
    const link = document.createElement('a');
    link.href = URL.createObjectURL(blob);
    link.download = 'messages.csv';
    document.body.append(link);
    link.click();
    link.remove();
    setTimeout(() => URL.revokeObjectURL(link.href), 10000);
    const more = answer.headers.get('x-next-cursor') ? ' (the first 10,000: narrow the filters for the rest)' : '';
    say(`The export was downloaded${more}.`, 'ok');
  } catch (error) {
    failed(error, 'The export failed');
  }
}

// --- one message's story ---

function fact(list, term, value) {
  if (value === undefined || value === null || value === '') return;
  list.append(element('dt', term), element('dd', value));
}

// One step of a message's story; `time` null for the request itself, shown at the message's
// creation and always first.
function step(time, title, lines, link, shownTime = time) {
  const item = document.createElement('li');
  item.append(element('p', title, 'step-title'), element('p', when(shownTime), 'step-time'));
  for (const line of lines.filter(Boolean)) item.append(element('p', line, 'step-line'));
  if (link) {
    const button = element('button', link.text, 'link');
    button.type = 'button';
    button.addEventListener('click', () => openMessage(link.id));
    item.append(button);
  }
  return { time: time === null ? -Infinity : Date.parse(time) || 0, item };
}

function forwarding(event) {
  if (!event.forward) return null;
  const attempts = `${event.forwardAttempts} attempt${event.forwardAttempts === 1 ? '' : 's'}`;
  return {
    pending: `Being forwarded to the practice's webhook (${attempts} so far).`,
    delivered: `Forwarded to the practice's webhook (${attempts}).`,
    failed: `Forwarding to the practice's webhook failed after ${attempts}.`,
  }[event.forward];
}

async function openMessage(id) {
  let message;
  try {
    message = (await call(`/api/messages/${encodeURIComponent(id)}`)).message;
  } catch (error) {
    failed(error, 'The message could not be opened');
    return;
  }
  $('detail-title').textContent = `${CHANNELS[message.channel] || message.channel} to ${recipientsOf(message)}`;
  const facts = $('detail-facts');
  facts.replaceChildren();
  fact(facts, 'Status', STATUSES[message.status] || message.status);
  fact(facts, 'Template', message.template && templateName(message.template));
  fact(facts, 'Category', CATEGORIES[message.category]);
  fact(facts, 'Message id', message.id);
  fact(facts, "Provider's id", message.providerMessageId);
  fact(facts, 'Batch', message.batchId);
  fact(facts, 'Idempotency key', message.idempotencyKey);
  fact(facts, 'Asked by', message.caller);
  const steps = [];
  // The request comes first whatever its clock says (its record is stamped as it is written,
  // after the attempt's line).
  steps.push(step(null, 'Requested', [
    `By ${message.caller}${message.idempotencyKey ? `, with the idempotency key ${message.idempotencyKey}` : ''}.`,
    message.batchId ? `An item of the batch ${message.batchId}.` : null,
  ], null, message.createdAt));
  if (message.status === 'suppressed' || message.status === 'declined') {
    const reason = REASONS[message.reason] || message.reason || 'no reason recorded';
    steps.push(step(message.createdAt, message.status === 'suppressed' ? 'Not sent: on the suppression list' : "Not sent: declined by the patient's choices", [`Reason: ${reason}.`]));
  }
  const trail = message.trail || { scheduled: [], attempts: [] };
  for (const kept of trail.scheduled) {
    steps.push(step(kept.time, kept.quietHours ? 'Held for quiet hours' : 'Scheduled', [`To go at ${when(kept.sendAt)}.`]));
  }
  for (const attempt of trail.attempts) {
    const title = {
      sent: `Accepted by ${attempt.provider}`, logged: 'Logged only (demo mode)', failed: `Refused or failed at ${attempt.provider}`,
      suppressed: 'Not sent: on the suppression list', declined: "Not sent: the patient's choices",
    }[attempt.outcome] || attempt.outcome;
    steps.push(step(attempt.time, title, [
      attempt.errorCode ? `Error: ${attempt.errorCode}${attempt.providerCode ? ` (provider code ${attempt.providerCode})` : ''}.` : null,
      attempt.hint,
      attempt.declined && attempt.declined.length ? `Declined by: ${attempt.declined.join(', ')}.` : null,
      `Took ${attempt.latencyMs} ms.`,
    ]));
  }
  for (const replay of trail.replays || []) {
    steps.push(step(replay.time, 'Asked for again with the same idempotency key', [
      `By ${replay.caller}: answered as the first time, and not sent again.`,
    ]));
  }
  for (const event of message.events || []) {
    steps.push(step(event.time, `Reported: ${STATUSES[event.type] || event.type}`, [
      event.errorCode ? `Provider's code: ${event.errorCode}${event.retryable === false ? ' (permanent)' : ''}.` : null,
      forwarding(event),
    ]));
  }
  if (message.fallbackOf) {
    steps.push(step(message.createdAt, 'Sent instead of another message', ['The earlier channel could not reach the patient.'], { id: message.fallbackOf, text: 'Open the original message' }));
  }
  if (message.fallback) {
    steps.push(step(message.updatedAt, 'Another channel was used instead', ['This message could not reach the patient, so the next channel was tried.'], { id: message.fallback, text: 'Open the fallback message' }));
  }
  steps.sort((a, b) => a.time - b.time);
  $('timeline').replaceChildren(...steps.map((s) => s.item));
  $('messages').hidden = true;
  $('detail').hidden = false;
  $('detail').focus();
}

function closeMessage() {
  $('detail').hidden = true;
  $('messages').hidden = false;
  $('messages-title').focus();
}

// --- the numbers ---

function svg(tag, attributes) {
  const node = document.createElementNS(SVG, tag);
  for (const [name, value] of Object.entries(attributes || {})) node.setAttribute(name, value);
  return node;
}

function chart(title, days, series, lines, unit) {
  const width = 640;
  const height = 220;
  const left = 44;
  const bottom = 28;
  const plotWidth = width - left - 8;
  const plotHeight = height - bottom - 10;
  const values = days.flatMap((d) => series.map((s) => s.value(d)));
  const highest = Math.max(...values, ...lines.map((l) => l.value * 1.15), unit === '%' ? 0.01 : 1);
  // Counts get whole-number ticks; rates two decimals.
  const top = unit === '%' ? highest : Math.max(2, Math.ceil(highest / 2) * 2);
  const y = (v) => 10 + plotHeight - (v / top) * plotHeight;
  const figure = svg('svg', { viewBox: `0 0 ${width} ${height}`, role: 'img', class: 'chart' });
  const label = svg('title');
  label.textContent = title;
  figure.append(label);
  for (const tick of [0, top / 2, top]) {
    figure.append(svg('line', { x1: left, x2: width - 8, y1: y(tick), y2: y(tick), class: 'grid-line' }));
    const text = svg('text', { x: left - 6, y: y(tick) + 4, class: 'axis', 'text-anchor': 'end' });
    text.textContent = `${Number(tick.toFixed(unit === '%' ? 2 : 0))}${unit}`;
    figure.append(text);
  }
  const slot = plotWidth / Math.max(days.length, 1);
  days.forEach((day, i) => {
    const x0 = left + i * slot;
    series.forEach((s, j) => {
      const barWidth = Math.max(2, (slot * 0.8) / series.length);
      const value = s.value(day);
      figure.append(svg('rect', {
        x: x0 + slot * 0.1 + j * barWidth, y: y(value), width: barWidth - 1,
        height: Math.max(0, y(0) - y(value)), class: `bar ${s.className}`,
      }));
    });
    if (days.length <= 14 || i % Math.ceil(days.length / 10) === 0) {
      const text = svg('text', { x: x0 + slot / 2, y: height - 8, class: 'axis', 'text-anchor': 'middle' });
      text.textContent = day.day.slice(5);
      figure.append(text);
    }
  });
  for (const line of lines) {
    figure.append(svg('line', { x1: left, x2: width - 8, y1: y(line.value), y2: y(line.value), class: `limit ${line.className}` }));
    // SES's lines are labelled above them on the right, the guard's below on the left, so
    // lines close together keep readable labels.
    const guard = line.className === 'hold';
    const text = svg('text', {
      x: guard ? left + 6 : width - 10, y: y(line.value) + (guard ? 13 : -4), class: 'axis', 'text-anchor': guard ? 'start' : 'end',
    });
    text.textContent = `${line.label} ${line.value}${unit}`;
    figure.append(text);
  }
  const wrap = element('figure');
  const legend = element('figcaption', null, 'legend');
  legend.append(element('strong', title));
  for (const s of series) {
    const key = element('span', s.label, 'key');
    key.prepend(element('span', null, `swatch ${s.className}`));
    legend.append(key);
  }
  wrap.append(figure, legend);
  return wrap;
}

async function loadNumbers() {
  const since = new Date(Date.now() - 30 * 86400000).toISOString();
  let stats;
  try {
    stats = await call(`/api/messages/stats?since=${encodeURIComponent(since)}`);
  } catch (error) {
    failed(error, 'The numbers could not be loaded');
    return;
  }
  $('numbers-range').textContent = `The last 30 days, by day in ${stats.zone}.`;
  const volume = $('volume-charts');
  volume.replaceChildren();
  for (const channel of ['email', 'sms']) {
    const days = stats.days.filter((d) => d.channel === channel);
    if (!days.length) continue;
    volume.append(chart(`${CHANNELS[channel]}s per day`, days, [
      { label: 'Sent', className: 'sent', value: (d) => d.sent },
      { label: 'Delivered', className: 'delivered', value: (d) => d.delivered },
      { label: 'Failed', className: 'failed', value: (d) => d.failed },
    ], [], ''));
  }
  if (!volume.children.length) volume.append(element('p', 'No messages in the last 30 days.', 'note'));
  const emails = stats.days.filter((d) => d.channel === 'email');
  const rate = (count) => (d) => (d.sent ? (100 * d[count]) / d.sent : 0);
  const lines = stats.lines;
  const rates = $('rate-charts');
  rates.replaceChildren(
    chart('Bounce rate', emails, [{ label: 'Bounces', className: 'failed', value: rate('bounced') }], [
      { label: 'SES review', value: lines.bounceReview, className: 'review' },
      { label: 'SES pause', value: lines.bouncePause, className: 'pause' },
      ...(lines.bounceHold ? [{ label: 'This service holds optional emails at', value: lines.bounceHold, className: 'hold' }] : []),
    ], '%'),
    chart('Complaint rate', emails, [{ label: 'Complaints', className: 'failed', value: rate('complained') }], [
      { label: 'SES review', value: lines.complaintReview, className: 'review' },
      { label: 'SES pause', value: lines.complaintPause, className: 'pause' },
      ...(lines.complaintHold ? [{ label: 'This service holds optional emails at', value: lines.complaintHold, className: 'hold' }] : []),
    ], '%'),
  );
  const body = document.querySelector('#day-table tbody');
  body.replaceChildren(...stats.days.map((d) => {
    const row = document.createElement('tr');
    const labels = ['Day', 'Channel', 'Sent', 'Delivered', 'Failed', 'Bounced', 'Complaints'];
    [d.day, CHANNELS[d.channel], d.sent, d.delivered, d.failed, d.bounced, d.complained]
      .forEach((value, i) => row.append(cell(labels[i], String(value))));
    return row;
  }));
}

// --- the suppression list ---

async function loadSuppressions() {
  try {
    const page = await call('/api/suppressions?active=true&limit=100');
    const rows = $('suppression-rows');
    rows.replaceChildren(...page.suppressions.map(suppressionRow));
    $('no-suppressions').hidden = rows.children.length > 0;
  } catch (error) {
    failed(error, 'The suppression list could not be loaded');
  }
}

function suppressionRow(entry) {
  const row = document.createElement('tr');
  row.append(
    cell('Recipient', entry.recipient),
    cell('Channel', CHANNELS[entry.channel] || entry.channel),
    cell('Reason', REASONS[entry.reason] || entry.reason),
    cell('Source', entry.source),
    cell('Category', CATEGORIES[entry.scope] || 'Every category'),
    cell('Since', when(entry.createdAt)),
  );
  const actions = cell('', document.createDocumentFragment());
  const lift = element('button', 'Lift', 'quiet');
  lift.type = 'button';
  lift.setAttribute('aria-label', `Lift the suppression of ${entry.recipient}`);
  lift.addEventListener('click', () => {
    if (entry.reason !== 'complaint') {
      liftSuppression(entry, false);
      return;
    }
    // A complaint is the patient marking an email as spam: lifting it needs a second, clear yes.
    const confirm = element('div', null, 'confirm');
    confirm.setAttribute('role', 'group');
    confirm.setAttribute('aria-label', 'Confirm lifting a complaint');
    confirm.append(element('p', `${entry.recipient} marked an email as spam. Sending to them again can get the practice's email paused. Lift it only if the patient asked for email again.`));
    const yes = element('button', 'Lift the complaint anyway', 'danger');
    yes.type = 'button';
    yes.addEventListener('click', () => liftSuppression(entry, true));
    const no = element('button', 'Keep it', 'quiet');
    no.type = 'button';
    no.addEventListener('click', () => { confirm.remove(); lift.hidden = false; lift.focus(); });
    confirm.append(yes, no);
    lift.hidden = true;
    actions.append(confirm);
    yes.focus();
  });
  actions.append(lift);
  row.append(actions);
  return row;
}

async function liftSuppression(entry, force) {
  try {
    await call(`/api/suppressions/${encodeURIComponent(entry.id)}${force ? '?force=true' : ''}`, { method: 'DELETE' });
    await loadSuppressions();
    say(`The suppression of ${entry.recipient} was lifted.`, 'ok');
  } catch (error) {
    failed(error, 'The suppression could not be lifted');
  }
}

async function addSuppression(event) {
  event.preventDefault();
  const form = new FormData(event.target);
  const body = { to: String(form.get('to')).trim(), reason: form.get('reason') };
  if (form.get('category')) body.category = form.get('category');
  if (!body.to) {
    say('Enter the email address or phone number to stop.', 'bad');
    $('s-to').focus();
    return;
  }
  try {
    const answer = await call('/api/suppressions', { method: 'POST', body });
    event.target.reset();
    await loadSuppressions();
    say(`${answer.suppression.recipient} is on the suppression list.`, 'ok');
  } catch (error) {
    failed(error, 'The suppression could not be added');
  }
}

// --- the page ---

function showSection(name) {
  for (const button of document.querySelectorAll('[data-section]')) {
    button.setAttribute('aria-pressed', String(button.dataset.section === name));
  }
  for (const panel of document.querySelectorAll('[data-panel]')) panel.hidden = panel.id !== name;
  $('detail').hidden = true;
  say('');
  if (name === 'numbers') loadNumbers();
  if (name === 'suppressions') loadSuppressions();
}

function fillSelect(id, entries) {
  const select = $(id);
  for (const [value, label] of entries) select.append(new Option(label, value));
}

async function start() {
  try {
    const health = await (await fetch('/api/health')).json();
    zone = (health.quietHours && health.quietHours.timezone) || 'UTC';
    const name = health.branding && health.branding.practiceName;
    if (name) $('practice').textContent = `${name}: message activity`;
    const days = health.dispatch && health.dispatch.messageRetentionDays;
    $('retention').textContent = `Times are in ${zone}. Messages are kept for ${days} days, then deleted. No message body, subject or full address is kept.`;
  } catch {
    $('retention').textContent = `Times are in ${zone}.`;
  }
  $('sections').hidden = false;
  $('sign-in').hidden = true;
  showSection('messages');
  await loadMessages(false);
  try {
    const templates = await (await fetch('/api/templates')).json();
    fillSelect('f-template', templates.templates.map((t) => [t.name, templateName(t.name)]));
  } catch {
    // The filter still takes any template by typing its name in the address bar's query.
  }
}

function setUp() {
  fillSelect('f-status', Object.entries(STATUSES));
  fillSelect('f-category', Object.entries(CATEGORIES));
  fillSelect('s-category', Object.entries(CATEGORIES));
  $('sign-in-form').addEventListener('submit', (event) => {
    event.preventDefault();
    const value = $('credential').value.trim();
    if (!value) {
      say('Paste a sign-in token or an API key.', 'bad');
      return;
    }
    credential = value;
    sessionStorage.setItem(STORED, value);
    say('');
    start();
  });
  $('filters').addEventListener('submit', (event) => { event.preventDefault(); loadMessages(false); });
  $('clear').addEventListener('click', () => { $('filters').reset(); loadMessages(false); });
  $('more').addEventListener('click', () => loadMessages(true));
  $('export').addEventListener('click', exportCsv);
  $('close-detail').addEventListener('click', closeMessage);
  $('add-suppression').addEventListener('submit', addSuppression);
  $('sign-out').addEventListener('click', () => signOut());
  for (const button of document.querySelectorAll('[data-section]')) {
    button.addEventListener('click', () => showSection(button.dataset.section));
  }
  credential = takeCredential();
  if (credential) start();
  else signOut('Sign in to see message activity.', '');
}

setUp();
