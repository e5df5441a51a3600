// What the portal's browser tests share: Debian's Chromium (playwright-core) on one page of
// calgate's portal, with what it saw recorded as it goes:
// - requests that calgate's own pages send elsewhere (navigations to a provider are the journey),
//   Content-Security-Policy refusals, script errors;
// - snapshot(name): screenshots at desktop and phone width, axe-core (WCAG 2.x A/AA) at both, no
//   sideways scrolling, and which of config.secrets (event texts) the page holds;
// - view(h1): waits for a portal view to be rendered with its data;
// - consent(account): the Google fake's consent page; session(): GET /v1/session from the page;
// - run(steps): runs the steps, records where a failure stopped them, prints what was seen as one
//   JSON object. The process exits 0 unless the browser itself could not run.
import { chromium } from 'playwright-core';
import { readFileSync, mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';

export const desktop = { width: 1280, height: 900 };
export const phone = { width: 390, height: 844 };
const axeSource = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

export async function openPortal(config) {
  mkdirSync(config.outDir, { recursive: true });
  const origin = new URL(config.base).origin;
  const seen = { pages: {}, elsewhere: [], cspErrors: [], pageErrors: [], steps: [] };
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-dev-shm-usage'],
  });
  const context = await browser.newContext({ viewport: desktop, acceptDownloads: true });
  const page = await context.newPage();
  page.setDefaultTimeout(30000);
  page.on('request', (r) => {
    const from = r.frame()?.url() ?? '';
    if (from.startsWith(origin) && !r.url().startsWith(origin) && !r.isNavigationRequest()) seen.elsewhere.push(r.url());
  });
  page.on('console', (m) => {
    if (m.type() === 'error' && m.text().includes('Content Security Policy')) seen.cspErrors.push(m.text());
  });
  page.on('pageerror', (e) => seen.pageErrors.push(e.message));

  const portal = {
    page, origin, seen,
    step: (what) => seen.steps.push(what),

    async snapshot(name) {
      const result = { url: page.url(), widths: {} };
      for (const [label, viewport] of [['desktop', desktop], ['phone', phone]]) {
        await page.setViewportSize(viewport);
        await page.waitForTimeout(100);  // layout after the resize
        await page.screenshot({ path: `${config.outDir}/portal-${name}-${label}.png`, fullPage: true });
        // axe runs through the debugging protocol, which the page's CSP does not govern
        if (!(await page.evaluate(() => typeof window.axe !== 'undefined'))) await page.evaluate(axeSource);
        const axe = await page.evaluate(async () => {
          const r = await window.axe.run(document, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] } });
          return r.violations.map((v) => ({ id: v.id, impact: v.impact, nodes: v.nodes.map((n) => n.target.join(' ')).slice(0, 5) }));
        });
        const horizontalScroll = await page.evaluate(() => document.documentElement.scrollWidth > window.innerWidth + 1);
        result.widths[label] = { axe, horizontalScroll };
      }
      await page.setViewportSize(desktop);
      const html = await page.content();
      result.text = (await page.innerText('body')).slice(0, 3000);
      result.secretsFound = (config.secrets ?? []).filter((s) => html.includes(s));
      seen.pages[name] = result;
    },

    // calgate's views render after their data loads: the h1, and nothing loading any more
    async view(h1) {
      await page.getByRole('heading', { level: 1, name: h1 }).waitFor();
      await page.waitForFunction(() => !document.querySelector('[aria-busy="true"]') && !document.querySelector('main p.loading'));
    },

    async consent(account) {
      await page.waitForURL((u) => !u.toString().startsWith(origin));
      await page.locator('select[name=account]').selectOption(account);
      await page.getByRole('button', { name: 'Allow' }).click();
      await page.waitForURL((u) => u.toString().startsWith(origin));
    },

    async session() {
      return page.evaluate(async () => {
        const r = await fetch('/v1/session');
        return { status: r.status, body: r.status === 200 ? await r.json() : null };
      });
    },

    // The one-time link from calgate-admin: its page, its button, the portal.
    async signInWithLink(email) {
      await page.goto(config.link);
      await page.getByRole('heading', { level: 1, name: 'Sign in to calgate' }).waitFor();
      await portal.snapshot('signin-link');
      await page.getByRole('button', { name: `Sign in as ${email}` }).click();
      await page.waitForURL(`${origin}/portal`);
    },

    async run(steps) {
      try {
        await steps();
        seen.failure = null;
      } catch (e) {
        seen.failure = String(e && e.stack ? e.stack : e);
        await page.screenshot({ path: `${config.outDir}/portal-failure.png`, fullPage: true }).catch(() => {});
        seen.failedAt = page.url();
        seen.failedText = (await page.innerText('body').catch(() => '')).slice(0, 2000);
      }
      await browser.close();
      console.log(JSON.stringify(seen));
    },
  };
  return portal;
}

export function readConfig() {
  return JSON.parse(readFileSync(process.argv[2], 'utf8'));
}
