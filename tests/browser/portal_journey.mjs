// The portal as a person uses it, in Debian's Chromium (playwright-core) against a running calgate
// with Radicale and the Google contract fake: sign in with a one-time link, sign out, sign in with
// Google, connect a CalDAV account and a Google account (through the fake's consent page), create a
// private pair, watch its first sync finish, open the preview, create a feed with a PIN, open its
// availability page with a wrong and then the right PIN, download the export, delete the account.
// At every page portal_browser.mjs's snapshot(): screenshots and axe-core at desktop and phone
// width, no sideways scrolling, no event text. Prints one JSON object (what was seen).
//   node tests/browser/portal_journey.mjs CONFIG.json
// CONFIG: {base, link, email, googleAccount, dav: {url, username, password, email}, sourceCalendar,
//          targetCalendar, secrets: [...], pin, outDir}
import { readFileSync } from 'node:fs';
import { openPortal, readConfig } from './portal_browser.mjs';

const config = readConfig();
const portal = await openPortal(config);
const { page, origin, seen, step, snapshot, view, consent, session, signInWithLink } = portal;

await portal.run(async () => {
  // 1. the one-time link from calgate-admin: whose it is, a button, the portal
  await signInWithLink(config.email);
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
  step('connected Google');
  // the CalDAV account's app-specific password replaced (as after revoking the old one)
  const caldavCard = page.locator('.card', { has: page.locator('h3', { hasText: 'CalDAV' }) });
  await caldavCard.locator('summary', { hasText: 'Change password' }).click();
  await caldavCard.getByLabel('New app-specific password').fill(config.dav.password);
  await snapshot('accounts');
  await caldavCard.getByRole('button', { name: /^Save password/ }).click();
  await page.locator('#flash', { hasText: 'works' }).waitFor();
  await view('Accounts');
  step('changed the CalDAV password');

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
});
