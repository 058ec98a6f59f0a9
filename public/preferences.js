// The patient's preference page. The signed link's token arrives in the URL fragment (which
// browsers never send to a server), moves to sessionStorage and out of the address bar, and
// goes to the API in the Patient-Link header only. Everything shown is set as text, never as
// HTML.
'use strict';

const CATEGORIES = {
  billing_alerts: {
    title: 'Billing alerts',
    text: 'A payment or an autopay charge that did not go through. We must be able to reach you about these: choose how, at least one way stays on.',
  },
  billing_receipts: {
    title: 'Receipts and invoices',
    text: 'A payment received, a refund issued, a new invoice.',
  },
  care_reminders: {
    title: 'Appointment reminders',
    text: 'A reminder before each appointment.',
  },
  documents: {
    title: 'Documents',
    text: 'A new document waiting in your patient portal.',
  },
};
const CHANNELS = { email: 'Email', sms: 'Text message' };
const STORED = 'notify.preferenceLink';
const API = '/api/preferences';

const $ = (id) => document.getElementById(id);
let token = null;
let loaded = [];

function takeToken() {
  const fragment = decodeURIComponent(location.hash.slice(1));
  if (fragment) {
    sessionStorage.setItem(STORED, fragment);
    history.replaceState(null, '', location.pathname);
    return fragment;
  }
  return sessionStorage.getItem(STORED);
}

function say(text, tone) {
  const status = $('status');
  status.className = tone || '';
  status.textContent = text;
}

async function call(method, body) {
  const headers = { 'Patient-Link': token };
  if (body) headers['Content-Type'] = 'application/json';
  const answer = await fetch(API, { method, headers, body: body && JSON.stringify(body) });
  const json = await answer.json().catch(() => ({}));
  if (!answer.ok) {
    const error = new Error(json.error || `The service answered ${answer.status}.`);
    error.code = json.code;
    throw error;
  }
  return json;
}

function switchId(row) {
  return `choice-${row.category}-${row.channel}`;
}

function show(answer) {
  loaded = answer.preferences;
  const practice = answer.practice || {};
  $('practice').textContent = practice.name || '';
  const who = [answer.email, answer.phone].filter(Boolean).join(' and ');
  $('who').textContent = who;
  $('intro').hidden = false;
  const contact = [practice.phone, practice.supportEmail].filter(Boolean).join(' or ');
  if (contact) {
    $('contact').textContent = `Questions? Contact ${practice.name || 'the practice'}: ${contact}.`;
    $('contact').hidden = false;
  }
  const address = { email: answer.email, sms: answer.phone };
  const holder = $('categories');
  holder.replaceChildren();
  const order = Object.keys(CATEGORIES).filter((c) => loaded.some((r) => r.category === c));
  for (const category of order) {
    const rows = loaded.filter((r) => r.category === category);
    const fieldset = document.createElement('fieldset');
    const legend = document.createElement('legend');
    legend.textContent = CATEGORIES[category].title;
    const text = document.createElement('p');
    text.id = `about-${category}`;
    text.textContent = CATEGORIES[category].text;
    const hint = document.createElement('p');
    hint.className = 'hint';
    hint.id = `hint-${category}`;
    hint.setAttribute('aria-live', 'polite');
    fieldset.append(legend, text);
    for (const row of rows) {
      const line = document.createElement('div');
      line.className = 'switch';
      const input = document.createElement('input');
      input.type = 'checkbox';
      input.setAttribute('role', 'switch');
      input.id = switchId(row);
      input.checked = row.enabled;
      input.dataset.category = row.category;
      input.dataset.channel = row.channel;
      input.setAttribute('aria-describedby', `${text.id} ${hint.id}`);
      if (row.required) input.addEventListener('change', () => keepOneOn(input, hint));
      const label = document.createElement('label');
      label.htmlFor = input.id;
      label.textContent = `${CHANNELS[row.channel]} to ${address[row.channel]}`;
      line.append(input, label);
      fieldset.append(line);
    }
    fieldset.append(hint);
    holder.append(fieldset);
  }
  $('choices').hidden = false;
}

// A required category keeps one channel on: the last one cannot be switched off here (the
// service refuses it too).
function keepOneOn(input, hint) {
  const same = document.querySelectorAll(`input[data-category="${input.dataset.category}"]`);
  if (![...same].some((i) => i.checked)) {
    input.checked = true;
    hint.textContent = 'At least one way stays on for billing alerts. Turn another on first to switch this one off.';
  } else {
    hint.textContent = '';
  }
}

async function save(event) {
  event.preventDefault();
  const changed = loaded
    .map((row) => ({ row, input: $(switchId(row)) }))
    .filter(({ row, input }) => input && input.checked !== row.enabled)
    .map(({ row, input }) => ({ category: row.category, channel: row.channel, enabled: input.checked }));
  if (changed.length === 0) {
    say('Nothing to save: no choice was changed.');
    return;
  }
  const button = $('save');
  button.disabled = true;
  say('Saving…');
  try {
    show(await call('PATCH', { preferences: changed }));
    say('Saved. Your choices apply from the next message.', 'ok');
  } catch (error) {
    say(`Not saved: ${error.message}`, 'bad');
  } finally {
    button.disabled = false;
  }
}

async function start() {
  token = takeToken();
  if (!token) {
    say('Open this page from the link at the bottom of an email from your practice.', 'bad');
    return;
  }
  $('choices').addEventListener('submit', save);
  say('Loading your choices…');
  try {
    show(await call('GET'));
    say('');
  } catch (error) {
    const text = error.code === 'invalid_link'
      ? 'This link is not valid: it may have been cut short when copied. Use the link in your latest email from the practice, or call the practice.'
      : `Your choices could not be loaded: ${error.message}`;
    say(text, 'bad');
  }
}

start();
