// The portal with the keyboard only (Tab, Shift+Tab, Enter, Space; no mouse), in Chromium: sign in
// with a one-time link, reach "Feeds" through the navigation, make a feed with a PIN (a calendar's
// checkbox, the label, the PIN, the button), copy its URL, revoke it with the in-page
// confirmation. Records where the focus lands after each step (a view's heading, the new feed's
// heading, the confirmation's button). Prints one JSON object, as the other portal scripts.
//   node tests/browser/portal_keyboard.mjs CONFIG.json
// CONFIG: {base, link, email, calendar, secrets: [...], outDir}
import { openPortal, readConfig } from './portal_browser.mjs';

const config = readConfig();
const portal = await openPortal(config);
const { page, seen, step, snapshot, view } = portal;
seen.focus = {};

// What has the focus: "TAG:accessible-ish name".
const focused = () => page.evaluate(() => {
  const e = document.activeElement;
  if (!e || e === document.body) return 'BODY:';
  const label = e.labels?.[0]?.textContent ?? '';
  return `${e.tagName}:${(e.getAttribute('aria-label') || label || e.textContent || e.value || '').trim().replace(/\s+/g, ' ').slice(0, 80)}`;
});

// Presses Tab until the focused element's description matches `pattern` (at most `max` presses: the
// feed form has a checkbox per calendar, and the test server's user has many).
async function tabTo(pattern, max = 500) {
  for (let i = 0; i < max; i++) {
    await page.keyboard.press('Tab');
    const now = await focused();
    if (pattern.test(now)) return now;
  }
  throw new Error(`the keyboard did not reach ${pattern} in ${max} presses (at ${await focused()})`);
}

await portal.run(async () => {
  await page.goto(config.link);
  await page.getByRole('heading', { level: 1, name: 'Sign in to calgate' }).waitFor();
  await tabTo(/^BUTTON:Sign in as /);
  await Promise.all([page.waitForURL(`${portal.origin}/portal`), page.keyboard.press('Enter')]);
  await view('Pairs');
  step('signed in with the keyboard');

  await tabTo(/^A:Feeds$/);
  await page.keyboard.press('Enter');
  await view('Feeds');
  seen.focus.afterNavigation = await focused();
  step('reached Feeds');

  await tabTo(new RegExp(`^INPUT:${config.calendar}`));
  await page.keyboard.press('Space');
  await tabTo(/^INPUT:Label/);
  await page.keyboard.type('Out of office');
  await tabTo(/^INPUT:PIN/);
  await page.keyboard.type('1357');
  await tabTo(/^BUTTON:Create feed/);
  await page.keyboard.press('Enter');
  await page.locator('section.created').waitFor();
  seen.focus.afterCreate = await focused();
  await snapshot('keyboard-feed-created');
  step('made a feed');

  await tabTo(/^BUTTON:Copy URL/);
  await page.keyboard.press('Enter');
  await page.locator('#flash', { hasText: /copied|selected/ }).waitFor();
  seen.copyMessage = await page.locator('#flash').innerText();
  step('copied its URL');

  await tabTo(/^BUTTON:Revoke feed Out of office|^BUTTON:Revoke/);
  await page.keyboard.press('Enter');
  seen.focus.inConfirmation = await focused();
  await snapshot('keyboard-feed-revoke');
  await page.keyboard.press('Enter');  // the confirmation's own button has the focus
  await page.locator('#flash', { hasText: 'revoked' }).waitFor();
  await page.waitForFunction(() => document.activeElement && document.activeElement.tagName === 'H1');
  seen.focus.afterRevoke = await focused();
  step('revoked it');
});
