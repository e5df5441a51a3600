// A pair whose run the mass-delete guard stopped, as its owner meets it in the portal (Chromium,
// playwright-core): sign in with a one-time link, open the pair, read the warning, confirm the
// held deletions in two steps, and watch the pair resume. Each page through portal_browser.mjs's
// snapshot() (screenshots and axe-core at desktop and phone width). Prints one JSON object.
//   node tests/browser/portal_guard.mjs CONFIG.json
// CONFIG: {base, link, email, pairId, secrets: [...], outDir}
import { openPortal, readConfig } from './portal_browser.mjs';

const config = readConfig();
const portal = await openPortal(config);
const { page, seen, step, snapshot, view, signInWithLink } = portal;

await portal.run(async () => {
  // opened at another address than calgate's own: the page says where to go
  await page.goto(config.base.replace('127.0.0.1', 'localhost') + '/portal');
  await page.locator('.address-warning').waitFor();
  seen.addressWarning = await page.locator('.address-warning').innerText();
  await signInWithLink(config.email);
  await view('Pairs');
  await snapshot('pairs-held');
  await page.goto(`${portal.origin}/portal#/pairs/${encodeURIComponent(config.pairId)}`);
  await view(/^Pair/);
  const warning = page.locator('.warning', { has: page.getByRole('heading', { name: 'Deletions wait for your confirmation' }) });
  await warning.waitFor();
  seen.warningText = await warning.innerText();
  await snapshot('pair-guard-held');
  step('saw the held deletions');
  await warning.getByRole('button', { name: 'Confirm deletion' }).click();
  await warning.getByRole('button', { name: /^Yes, delete/ }).waitFor();
  seen.confirmText = await warning.innerText();
  await snapshot('pair-guard-confirm');
  await warning.getByRole('button', { name: /^Yes, delete/ }).click();
  // the run that was held goes on; the status (polled by the page) no longer shows the warning
  await page.getByRole('heading', { name: 'Deletions wait for your confirmation' }).waitFor({ state: 'detached', timeout: 90000 });
  await page.waitForFunction(() => !document.querySelector('.job'), null, { timeout: 90000 });
  seen.afterText = (await page.innerText('main')).slice(0, 3000);
  await snapshot('pair-guard-resumed');
  step('confirmed the deletions');
});
