// What the browser tests share: the local server started with a test's variables, Debian's
// Chromium driven by Playwright, pages that record console errors (a CSP violation is one), and
// the checks every page must pass (axe-core, phone width).
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import axe from 'axe-core';
import { chromium } from 'playwright-core';

export const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

export function need(name) {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set: run through scripts/test, which starts the emulators and PostgreSQL`);
  return value;
}

async function freePort() {
  return new Promise((resolve, reject) => {
    const socket = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = socket.address();
      socket.close(() => resolve(port));
    });
    socket.on('error', reject);
  });
}

// Starts target/debug/notify with `vars(base)` as its environment; resolves once it answers.
export async function startServer(vars) {
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const binary = path.join(process.env.CARGO_TARGET_DIR || path.join(root, 'target'), 'debug', 'notify');
  const child = spawn(binary, [], { env: { PATH: process.env.PATH, PORT: String(port), ...vars(base) } });
  const server = { base, log: '', stop: () => child.kill() };
  child.stdout.on('data', (d) => { server.log += d; });
  child.stderr.on('data', (d) => { server.log += d; });
  for (let i = 0; ; i += 1) {
    try {
      if ((await fetch(`${base}/api/health`)).ok) return server;
    } catch {
      if (i > 100) throw new Error(`the local server did not start:\n${server.log}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

export function launch() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync'],
  });
}

// A page of `width` (a phone's by default) that records console errors and uncaught exceptions.
export async function newPage(browser, width = 390, options = {}) {
  const context = await browser.newContext({ viewport: { width, height: 844 }, ...options });
  const page = await context.newPage();
  page.problems = [];
  page.on('console', (m) => { if (m.type() === 'error') page.problems.push(m.text()); });
  page.on('pageerror', (e) => page.problems.push(String(e)));
  return page;
}

// axe-core run in the page (evaluated over CDP, so the page's policy still forbids inline
// script); serious and critical findings fail.
export async function assertAccessible(page) {
  await page.evaluate(axe.source);
  const results = await page.evaluate(() => window.axe.run(document, { resultTypes: ['violations'] }));
  const serious = results.violations.filter((v) => ['serious', 'critical'].includes(v.impact));
  assert.deepEqual(serious.map((v) => `${v.id}: ${v.help} (${v.nodes.map((n) => n.target).join(', ')})`), []);
}

export async function assertFitsThePhone(page) {
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  assert.ok(overflow <= 0, `the page is ${overflow}px wider than the phone`);
}
