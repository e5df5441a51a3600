// A running sync as its owner watches it in the portal (Chromium, playwright-core): the pair's
// page shows the step and "Writing N of M" with a <progress>, updated by the page's own polling,
// and the finished run. The test holds the target's writes at a gate: this script prints the line
// "progress-seen" when the page shows the run stopped at config.writtenAtGate, and the test then
// lets the remaining writes through. Then one JSON object, as the other portal scripts.
//   node tests/browser/portal_progress.mjs CONFIG.json
// CONFIG: {base, link, email, pairId, planned, writtenAtGate, secrets: [...], outDir}
import { openPortal, readConfig } from './portal_browser.mjs';

const config = readConfig();
const portal = await openPortal(config);
const { page, seen, step, snapshot, view, signInWithLink } = portal;

await portal.run(async () => {
  await signInWithLink(config.email);
  await view('Pairs');
  await page.goto(`${portal.origin}/portal#/pairs/${encodeURIComponent(config.pairId)}`);
  await view(/^Pair/);
  const bar = page.locator('progress.sync-progress');
  await page.waitForFunction(({ planned, written }) => {
    const p = document.querySelector('progress.sync-progress');
    return p && Number(p.max) === planned && Number(p.value) === written;
  }, { planned: config.planned, written: config.writtenAtGate }, { timeout: 90000 });
  seen.progressText = await page.locator('.job').innerText();
  seen.progress = { max: await bar.getAttribute('max'), value: await bar.getAttribute('value') };
  await snapshot('pair-progress');
  step('watched the run write');
  console.log('progress-seen');
  await page.locator('.job').waitFor({ state: 'detached', timeout: 90000 });
  seen.afterText = (await page.innerText('main')).slice(0, 2000);
  step('watched the run finish');
});
