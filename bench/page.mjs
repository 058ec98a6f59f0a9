// The activity page's first render, for bench/activity.py: loads `<base>/activity` signed in
// with `<key>` in a fresh Chromium context `<loads>` times, and prints the milliseconds from
// navigation to the first row of messages drawn, as JSON. Uses tests/browser's playwright-core.
import { createRequire } from 'node:module';

const browserTests = createRequire(new URL('../tests/browser/package.json', import.meta.url));
const { chromium } = browserTests('playwright-core');

const [base, key, loads] = process.argv.slice(2);
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking'],
});
const times = [];
try {
  for (let i = 0; i < Number(loads); i += 1) {
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    const page = await context.newPage();
    await page.goto(`${base}/activity#token=${key}`, { waitUntil: 'commit' });
    await page.locator('#message-rows tr').first().waitFor();
    // From the navigation's start, as the page's own clock tells it.
    times.push(await page.evaluate(() => performance.now()));
    await context.close();
  }
} finally {
  await browser.close();
}
process.stdout.write(JSON.stringify(times));
