// Opens a calgate page in Debian's Chromium (playwright-core), as a person would: at desktop and
// phone width, with the keyboard only. For each width it saves a screenshot, runs axe-core
// (WCAG 2.x A/AA rules) and reports the violations, whether any request left the page's origin,
// and what the keyboard reached. With --pin, it types the PIN into the page's form and submits it
// with Enter first. Prints one JSON object; exits 0 unless the browser could not run.
//   node tests/browser/check_page.mjs URL OUTDIR NAME [--pin 1234]
import { chromium } from 'playwright-core';
import { readFileSync, mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';

const [url, outDir, name, ...rest] = process.argv.slice(2);
if (!url || !outDir || !name) {
  console.error('usage: check_page.mjs URL OUTDIR NAME [--pin PIN]');
  process.exit(2);
}
const pin = rest[0] === '--pin' ? rest[1] : undefined;
const axeSource = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');
const executablePath = process.env.CHROMIUM ?? '/usr/bin/chromium';
mkdirSync(outDir, { recursive: true });

// Opens the page; with a PIN, types it into the focused field and submits with Enter.
async function open(page) {
  await page.goto(url);
  if (pin === undefined) return;
  // the form's field takes the focus by itself (autofocus): wait for it, then type as a person would
  await page.waitForFunction(() => document.activeElement && document.activeElement.name === 'pin');
  await page.keyboard.type(pin);
  await Promise.all([page.waitForNavigation(), page.keyboard.press('Enter')]);
}

const browser = await chromium.launch({ executablePath, args: ['--no-sandbox', '--disable-dev-shm-usage'] });
const result = { url, widths: {} };
try {
  for (const [label, viewport] of [['desktop', { width: 1280, height: 900 }], ['phone', { width: 390, height: 844 }]]) {
    // as served (its Content-Security-Policy in force): what it loads, what the browser refuses,
    // what the keyboard reaches, how it looks
    const page = await browser.newPage({ viewport });
    const origin = new URL(url).origin;
    const elsewhere = [];
    page.on('request', (r) => { if (!r.url().startsWith(origin) && !r.url().startsWith('data:')) elsewhere.push(r.url()); });
    const consoleErrors = [];
    page.on('console', (m) => { if (m.type() === 'error') consoleErrors.push(m.text()); });
    await open(page);
    const reached = [];
    for (let i = 0; i < 6; i++) {
      await page.keyboard.press('Tab');
      reached.push(await page.evaluate(() => {
        const e = document.activeElement;
        return e && e !== document.body ? e.tagName + ':' + (e.textContent || e.getAttribute('name') || '').trim().slice(0, 40) : '';
      }));
    }
    const horizontalScroll = await page.evaluate(() => document.documentElement.scrollWidth > window.innerWidth + 1);
    const text = (await page.innerText('body')).slice(0, 4000);
    await page.screenshot({ path: `${outDir}/${name}-${label}.png`, fullPage: true });
    await page.close();
    // axe needs a script in the page, which the page's policy rightly forbids: a second page with
    // the policy bypassed through the debugging protocol
    const checked = await browser.newPage({ viewport });
    const cdp = await checked.context().newCDPSession(checked);
    await cdp.send('Page.setBypassCSP', { enabled: true });
    await open(checked);
    await checked.addScriptTag({ content: axeSource });
    const axe = await checked.evaluate(async () => {
      const r = await window.axe.run(document, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21aa', 'best-practice'] } });
      return r.violations.map((v) => ({ id: v.id, impact: v.impact, nodes: v.nodes.length }));
    });
    await checked.close();
    result.widths[label] = { axe, elsewhere, reached, horizontalScroll, consoleErrors, text };
  }
} finally {
  await browser.close();
}
console.log(JSON.stringify(result));
