// The portal as a person uses it, in Debian's Chromium (playwright-core) against a running calgate
// with Radicale and the Google contract fake: sign in with a one-time link, sign out, sign in with
// Google, connect a CalDAV account and a Google account (through the fake's consent page), create a
// private pair, watch its first sync finish, open the preview, create a feed with a PIN, open its
// availability page with a wrong and then the right PIN, download the export, delete the account.
// At every page: a screenshot at desktop and phone width, axe-core (WCAG 2.x A/AA) at both widths,
// no sideways scrolling, and the page's text checked for the events' secret texts. The whole way:
// requests leaving calgate's origin from calgate's pages, and Content-Security-Policy refusals.
// Prints one JSON object (what was seen); exits 0 unless the browser could not run.
//   node tests/browser/portal_journey.mjs CONFIG.json
// CONFIG: {base, link, email, googleAccount, dav: {url, username, password, email}, sourceCalendar,
//          targetCalendar, secrets: [...], pin, outDir}
import { chromium } from 'playwright-core';
import { readFileSync, mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';

const config = JSON.parse(readFileSync(process.argv[2], 'utf8'));
const axeSource = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');
mkdirSync(config.outDir, { recursive: true });
const origin = new URL(config.base).origin;
const desktop = { width: 1280, height: 900 };
const phone = { width: 390, height: 844 };

const seen = { pages: {}, elsewhere: [], cspErrors: [], pageErrors: [], steps: [] };
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-dev-shm-usage'],
});
const context = await browser.newContext({ viewport: desktop, acceptDownloads: true });
const page = await context.newPage();
page.setDefaultTimeout(30000);
page.on('request', (r) => {
  // what calgate's own pages load (a navigation to the provider's consent page is the journey)
  const from = r.frame()?.url() ?? '';
  if (from.startsWith(origin) && !r.url().startsWith(origin) && !r.isNavigationRequest()) seen.elsewhere.push(r.url());
});
page.on('console', (m) => {
  if (m.type() === 'error' && m.text().includes('Content Security Policy')) seen.cspErrors.push(m.text());
});
page.on('pageerror', (e) => seen.pageErrors.push(e.message));

const step = (what) => seen.steps.push(what);

// The page as it is now: screenshots and axe at both widths, its text, and the secrets it must not hold.
async function snapshot(name) {
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
  result.secretsFound = config.secrets.filter((s) => html.includes(s));
  seen.pages[name] = result;
}

// calgate's views render after their data loads: wait for the h1 and for nothing to be loading.
async function view(h1) {
  await page.getByRole('heading', { level: 1, name: h1 }).waitFor();
  await page.waitForFunction(() => !document.querySelector('[aria-busy="true"]') && !document.querySelector('main p.loading'));
}

// The Google fake's consent page: choose the account, allow.
async function consent(account) {
  await page.waitForURL((u) => !u.toString().startsWith(origin));
  await page.locator('select[name=account]').selectOption(account);
  await page.getByRole('button', { name: 'Allow' }).click();
  await page.waitForURL((u) => u.toString().startsWith(origin));
}

async function session() {
  return page.evaluate(async () => {
    const r = await fetch('/v1/session');
    return { status: r.status, body: r.status === 200 ? await r.json() : null };
  });
}

let failure = null;
try {
  // 1. the one-time link from calgate-admin: whose it is, a button, the portal
  await page.goto(config.link);
  await page.getByRole('heading', { level: 1, name: 'Sign in to calgate' }).waitFor();
  await snapshot('signin-link');
  await page.getByRole('button', { name: `Sign in as ${config.email}` }).click();
  await page.waitForURL(`${origin}/portal`);
  await view('Pairs');
  seen.linkSession = (await session()).body?.session?.via;
  await snapshot('pairs-empty');
  step('signed in with the link');

  // 2. sign out, then sign in with Google
  await page.locator('#signout').click();
  await view('Sign in to calgate');
  seen.afterSignOut = (await session()).status;
  await snapshot('signin');
  await page.getByRole('button', { name: 'Sign in with Google' }).click();
  await consent(config.googleAccount);
  await view('Pairs');
  seen.googleSession = (await session()).body?.session?.via;
  step('signed in with Google');

  // 3. connect the CalDAV account
  await page.getByRole('navigation').getByRole('link', { name: 'Accounts' }).click();
  await view('Accounts');
  await snapshot('accounts-empty');
  await page.getByRole('link', { name: 'Connect a CalDAV account' }).click();
  await view('Connect a CalDAV account');
  await page.getByText('Help for iCloud').click();
  await snapshot('connect-caldav');
  await page.getByLabel('Server URL').fill(config.dav.url);
  await page.getByLabel('Username').fill(config.dav.username);
  await page.getByLabel('App-specific password').fill(config.dav.password);
  if (config.dav.email) await page.getByLabel(/^Email address for this account/).fill(config.dav.email);
  await page.getByRole('button', { name: 'Connect account' }).click();
  await view('Accounts');
  await page.locator('.card h3', { hasText: 'CalDAV' }).waitFor();
  step('connected CalDAV');

  // 4. connect the Google account: calgate's start page, the consent, calgate's callback page
  await page.getByRole('button', { name: 'Connect Google' }).click();
  await page.getByRole('heading', { level: 1, name: 'Connect a Google account' }).waitFor();
  await snapshot('connect-google-start');
  await page.getByRole('button', { name: 'Continue to Google' }).click();
  await consent(config.googleAccount);
  await page.getByRole('heading', { level: 1, name: 'Connected' }).waitFor();
  await snapshot('connect-google-done');
  await page.getByRole('link', { name: 'Back to your accounts' }).click();
  await view('Accounts');
  await page.locator('.card h3', { hasText: 'Google' }).waitFor();
  await snapshot('accounts');
  step('connected Google');

  // 5. a private pair CalDAV -> Google
  await page.getByRole('navigation').getByRole('link', { name: 'Pairs' }).click();
  await view('Pairs');
  await page.getByRole('link', { name: 'New pair' }).click();
  await view('New pair');
  await page.getByLabel('Source calendar').selectOption({ label: config.sourceCalendar });
  await page.getByLabel('Target calendar').selectOption({ label: config.targetCalendar });
  await page.getByLabel('Private', { exact: true }).check();
  await snapshot('new-pair');
  await page.getByRole('button', { name: 'Create pair' }).click();
  await page.waitForURL(/#\/pairs\/pair_/);
  await view(/^Pair/);
  seen.pairId = decodeURIComponent(page.url().split('#/pairs/')[1]);
  step('created the pair');

  // 6. its first sync finishes while the page watches (the status polls by itself)
  await page.getByText(/Last successful sync/).waitFor();
  await page.waitForFunction(() => /Last successful sync\s*\S/.test(document.body.innerText) &&
                                   !/Last successful sync\s*Never/.test(document.body.innerText), null, { timeout: 90000 });
  await page.waitForFunction(() => !document.querySelector('.job'), null, { timeout: 90000 });
  await snapshot('pair-synced');
  step('first sync finished');

  // 7. the preview as a table (every event in the window: after the sync the next run has nothing to do)
  await page.getByLabel('What to plan').selectOption('all');
  await page.getByRole('button', { name: 'Preview', exact: true }).click();
  await page.locator('table#preview-table').waitFor({ timeout: 60000 });
  seen.previewRows = await page.locator('table#preview-table tbody tr').count();
  await snapshot('pair-preview');
  step('opened the preview');

  // 8. a feed with a PIN
  await page.getByRole('navigation').getByRole('link', { name: 'Feeds' }).click();
  await view('Feeds');
  await page.getByRole('checkbox', { name: config.sourceCalendar }).check();
  await page.getByLabel('Label', { exact: true }).fill('Ada is busy');
  await page.getByLabel('PIN (optional)').fill(config.pin);
  await snapshot('feeds-new');
  await page.getByRole('button', { name: 'Create feed' }).click();
  await page.locator('section.created').waitFor();
  seen.feedUrl = await page.locator('#feed-url').inputValue();
  const availability = await page.locator('section.created a.availability-link').getAttribute('href');
  seen.availabilityUrl = availability;
  await snapshot('feeds-created');
  step('created the feed');

  // 9. its availability page: the PIN form, a wrong PIN, the right one (typed, Enter)
  const feedsUrl = page.url();
  await page.goto(new URL(availability, origin).toString());
  await page.getByLabel(/PIN/).waitFor();
  await snapshot('availability-pin');
  await page.getByLabel(/PIN/).fill('0000');
  await Promise.all([page.waitForNavigation(), page.keyboard.press('Enter')]);
  seen.wrongPinText = (await page.innerText('body')).slice(0, 500);
  await snapshot('availability-wrong-pin');
  await page.getByLabel(/PIN/).fill(config.pin);
  await Promise.all([page.waitForNavigation(), page.keyboard.press('Enter')]);
  seen.weekText = (await page.innerText('body')).slice(0, 3000);
  await snapshot('availability-week');
  await page.goto(feedsUrl);
  await view('Feeds');
  step('opened the availability page');

  // 10. download my data
  await page.getByRole('navigation').getByRole('link', { name: 'Your data' }).click();
  await view('Your data');
  await page.locator('#sessions li').first().waitFor();
  await snapshot('your-data');
  const [download] = await Promise.all([page.waitForEvent('download'),
                                        page.getByRole('button', { name: 'Download my data' }).click()]);
  const exportPath = `${config.outDir}/portal-export.json`;
  await download.saveAs(exportPath);
  const exported = readFileSync(exportPath, 'utf8');
  seen.exportEmail = JSON.parse(exported).user.email;
  seen.exportSecretsFound = config.secrets.filter((s) => exported.includes(s));
  step('downloaded the export');

  // 11. delete the account, confirmed by typing the address
  await page.getByRole('button', { name: 'Delete my account', exact: true }).click();
  await page.locator('#delete-confirm-email').fill(config.email);
  await snapshot('delete-confirm');
  await page.getByRole('button', { name: 'Delete my account permanently' }).click();
  await view('Your account was deleted');
  await snapshot('account-deleted');
  seen.afterDelete = (await session()).status;
  step('deleted the account');
} catch (e) {
  failure = String(e && e.stack ? e.stack : e);
  await page.screenshot({ path: `${config.outDir}/portal-failure.png`, fullPage: true }).catch(() => {});
  seen.failedAt = page.url();
  seen.failedText = (await page.innerText('body').catch(() => '')).slice(0, 2000);
}
seen.failure = failure;
await browser.close();
console.log(JSON.stringify(seen));
