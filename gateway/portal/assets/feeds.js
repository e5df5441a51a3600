// calgate web portal: availability feeds (#/feeds) - the list with revoke, and the form for a new
// feed. calgate returns a feed's secret URL only once, in the answer that creates it: it is shown
// then (and kept in this page's memory only, never in storage) with a copy button and a link to
// the feed's availability page (/availability/<token>).

import { api, paths, loadAccountsWithCalendars, SessionEnded } from './api.js';
import {
  h, srOnly, nextId, fmtDate, plural, loadInto, confirmAction, busy, field, showFormError, clearFormErrors,
  defList, PROVIDER_NAMES,
} from './dom.js';
import { calName } from './pairs.js';

/** Feeds made in this page's lifetime: id -> {url, token}. Gone on reload, as on the server. */
const secrets = new Map();

const baseUrl = (ctx) => (ctx.state.config?.public_url || location.origin).replace(/\/+$/, '');
const feedUrl = (ctx, s) => baseUrl(ctx) + s.url;
const availabilityUrl = (ctx, s) => `${baseUrl(ctx)}/availability/${encodeURIComponent(s.token)}`;

/** A read-only URL field with "Copy URL" (clipboard API; else the text is selected for Ctrl+C). */
function urlBox(ctx, labelText, url, id) {
  const input = h('input', { type: 'text', readonly: true, value: url, id, class: 'url', spellcheck: 'false' });
  const f = field(labelText, input);
  const copy = h('button', { type: 'button' }, 'Copy URL');
  copy.addEventListener('click', async () => {
    try {
      if (!navigator.clipboard) throw new Error('no clipboard');
      await navigator.clipboard.writeText(url);
      ctx.announce('Feed URL copied.');
    } catch {
      input.focus();
      input.select();
      ctx.announce('The URL is selected: press Ctrl+C (or Command+C) to copy it.');
    }
  });
  input.addEventListener('focus', () => input.select());
  return h('div', { class: 'url-box' }, f.wrap, copy);
}

/** The secret parts of a feed made in this page: its URL and availability page. */
function secretParts(ctx, feed, s, first) {
  return [
    urlBox(ctx, 'Feed URL (for calendar apps)', feedUrl(ctx, s), first ? 'feed-url' : nextId('feed-url')),
    h('p', {}, h('a', { href: availabilityUrl(ctx, s), target: '_blank', rel: 'noopener noreferrer', class: 'availability-link' },
      'Open availability page', srOnly(' (opens in a new tab)'))),
    feed.pin_protected
      ? h('p', { class: 'hint' }, 'This feed has a PIN: give it to the people you share the URL with. Calendar apps can add it to the URL as ?pin=… (or send it as the X-Feed-Pin header); the availability page asks for it.')
      : null,
  ];
}

// ---- #/feeds -----------------------------------------------------------------------------------

export async function feedsView(ctx, body) {
  const created = h('div');
  const listSlot = h('div');
  const formSlot = h('section', { class: 'panel' }, h('h2', {}, 'New feed'));
  body.append(
    h('p', {}, 'A feed publishes when you are busy - start, end and a label of your choice, never titles, descriptions, locations or attendees - as an iCalendar URL for calendar apps and as a web page for people.'),
    created,
    h('h2', {}, 'Your feeds'),
    listSlot,
    formSlot);
  const loadList = () => loadInto(ctx, listSlot, async () => {
    const [{ feeds }, cals] = await Promise.all([api('GET', '/v1/feeds'), loadAccountsWithCalendars()]);
    return { feeds, ...cals };
  }, ({ feeds, byId, accounts }) => {
    renderList(ctx, listSlot, feeds, byId, loadList);
    if (!formSlot.querySelector('form')) formSlot.append(newFeedForm(ctx, accounts, onCreated));
  });
  const onCreated = (feed) => {
    secrets.set(feed.id, { url: feed.url, token: feed.token });
    const heading = h('h2', { tabindex: '-1' }, `Your new feed: ${feed.label}`);
    created.replaceChildren(h('section', { class: 'panel created' },
      heading,
      h('p', { class: 'important' }, 'Copy this URL now. calgate shows it only this once and keeps only a fingerprint of it: anyone with the URL sees your busy times.'),
      ...secretParts(ctx, feed, secrets.get(feed.id), true)));
    heading.focus();
    ctx.announce('Feed created.');
    loadList();
  };
  await loadList();
}

function renderList(ctx, slot, feeds, byId, reload) {
  const live = feeds.filter((f) => f.revoked_at === null);
  const revoked = feeds.filter((f) => f.revoked_at !== null);
  slot.replaceChildren(live.length
    ? h('ul', { class: 'cards', 'aria-label': 'Your feeds' }, live.map((feed) => {
      const s = secrets.get(feed.id);
      return h('li', { class: 'card' },
        h('h3', {}, feed.label),
        defList([
          ['Calendars', feed.calendar_ids.map((id) => calName(byId, id)).join(', ') || 'none (their accounts were removed)'],
          ['PIN', feed.pin_protected ? 'Yes' : 'No'],
          ['Window', `${plural(feed.window.past_days, 'day', 'days')} back, ${plural(feed.window.future_days, 'day', 'days')} ahead`],
          ['Created', fmtDate(feed.created_at)],
        ]),
        s ? secretParts(ctx, feed, s, false)
          : h('p', { class: 'hint' }, 'calgate showed this feed\'s URL once, when it was made. Lost it? Make a new feed and revoke this one.'),
        confirmAction({
          label: ['Revoke', srOnly(` feed ${feed.label}`)],
          question: `Revoke “${feed.label}”? Its URL and availability page stop working at once, for everyone.`,
          confirmLabel: 'Yes, revoke feed',
          action: async () => {
            await api('DELETE', paths.feed(feed.id));
            secrets.delete(feed.id);
            ctx.announce(`Feed “${feed.label}” revoked.`);
            await reload();
            ctx.heading.focus(); // the button that had the focus is gone with the list
          },
        }));
    }))
    : h('p', {}, 'No feeds yet.'));
  if (revoked.length) {
    slot.append(h('details', {}, h('summary', {}, `Revoked feeds (${revoked.length})`),
      h('ul', {}, revoked.map((f) => h('li', {}, `${f.label}: revoked ${fmtDate(f.revoked_at)}`)))));
  }
}

function newFeedForm(ctx, accounts, onCreated) {
  const withCalendars = accounts.filter((a) => a.calendars.length);
  if (!withCalendars.length) {
    return h('p', {}, 'A feed needs calendars. ', h('a', { href: '#/accounts' }, 'Connect an account'), ' first.');
  }
  const boxes = [];
  const calendars = h('fieldset', { class: 'checks' }, h('legend', {}, 'Calendars'),
    h('p', { class: 'hint' }, 'Busy times of all chosen calendars go into the feed (up to 20).'),
    withCalendars.map((a) => h('fieldset', {}, h('legend', {}, `${PROVIDER_NAMES[a.provider] ?? a.provider}: ${a.email}`),
      a.calendars.map((c) => {
        const id = nextId('cal');
        const box = h('input', { type: 'checkbox', id, value: c.id });
        boxes.push(box);
        return h('div', { class: 'choice' }, box, h('label', { for: id }, c.name));
      }))));
  const f = {
    label: field('Label', h('input', { type: 'text', maxlength: '100', value: 'Busy' }), 'What every busy block is called.'),
    pin: field('PIN (optional)', h('input', { type: 'text', inputmode: 'numeric', pattern: '[0-9]{4,12}', autocomplete: 'off', maxlength: '12' }),
      '4 to 12 digits. With a PIN, people need both the URL and the PIN.'),
    'window.past_days': field('Days back', h('input', { type: 'number', inputmode: 'numeric', min: '0', max: '90', value: '7', required: true }), 'Busy times that ended up to this many days ago (0 to 90).'),
    'window.future_days': field('Days ahead', h('input', { type: 'number', inputmode: 'numeric', min: '1', max: '366', value: '60', required: true }), 'Busy times up to this many days ahead (1 to 366).'),
  };
  const alertSlot = h('div', { role: 'alert', class: 'alert-slot' });
  const submit = h('button', { type: 'submit', class: 'primary' }, 'Create feed');
  const form = h('form', {
    class: 'form',
    onsubmit: async (e) => {
      e.preventDefault();
      clearFormErrors(f, alertSlot);
      const ids = boxes.filter((b) => b.checked).map((b) => b.value);
      if (!ids.length || ids.length > 20) {
        alertSlot.replaceChildren(h('p', { class: 'error' }, ids.length ? 'Choose at most 20 calendars.' : 'Choose at least one calendar.'));
        boxes[0].focus();
        return;
      }
      const req = {
        calendar_ids: ids,
        window: { past_days: Number(f['window.past_days'].control.value), future_days: Number(f['window.future_days'].control.value) },
      };
      const label = f.label.control.value.trim();
      if (label) req.label = label;
      const pin = f.pin.control.value.trim();
      if (pin) req.pin = pin;
      try {
        const feed = await busy(submit, 'Creating…', () => api('POST', '/v1/feeds', req));
        form.reset();
        onCreated(feed);
      } catch (err) {
        if (!(err instanceof SessionEnded)) showFormError(err, alertSlot, f);
      }
    },
  }, calendars, f.label.wrap, f.pin.wrap,
  h('fieldset', { class: 'window' }, h('legend', {}, 'Window'), f['window.past_days'].wrap, f['window.future_days'].wrap),
  alertSlot, h('div', { class: 'actions' }, submit));
  return form;
}
