// calgate web portal: the entry point (loaded by index.html as an ES module).
// Loads the portal config and the session, then renders one view at a time into <main> from the
// URL hash (#/pairs, #/pairs/<id>, #/accounts, ...). Each view gets a context (`ctx`) with the
// session, navigation, the status announcer and timers that stop when the view is left.
// Signed out, every route shows the sign-in view.

import { api, getSession, onSessionEnded, paths, setCsrfToken, SessionEnded } from './api.js';
import { h, errorBox, errorText } from './dom.js';
import { pairsView, newPairView, pairView } from './pairs.js';
import { accountsView, caldavView } from './accounts.js';
import { feedsView } from './feeds.js';
import { myDataView } from './mydata.js';

const main = document.getElementById('main');
const nav = document.getElementById('nav');
const flash = document.getElementById('flash');

const state = { config: null, session: null };
let current = null;          // the rendered view's context
let pendingFlash = '';       // a message to show with the next view (e.g. "Pair created.")
let firstRender = true;      // no focus move on the page's first view (the browser starts at the top)
const RETURN_KEY = 'calgate.return';

// ---- routes ------------------------------------------------------------------------------------

/** The hash -> {title, section, view, params}. Views are async (ctx, body, params) functions. */
function route(hash) {
  const path = hash.replace(/^#/, '') || '/';
  const parts = path.split('/').filter(Boolean);
  const [a, b] = parts;
  if (parts.length === 0 || (a === 'pairs' && parts.length === 1)) return { title: 'Pairs', section: 'pairs', view: pairsView };
  if (a === 'pairs' && b === 'new' && parts.length === 2) return { title: 'New pair', section: 'pairs', view: newPairView };
  if (a === 'pairs' && parts.length === 2) {
    let id;
    try {
      id = decodeURIComponent(b);
    } catch {
      return { title: 'Page not found', section: null, view: notFoundView }; // a malformed escape (#/pairs/%)
    }
    return { title: 'Pair', section: 'pairs', view: pairView, params: { id } };
  }
  if (a === 'accounts' && parts.length === 1) return { title: 'Accounts', section: 'accounts', view: accountsView };
  if (a === 'accounts' && b === 'new-caldav' && parts.length === 2) return { title: 'Connect a CalDAV account', section: 'accounts', view: caldavView };
  if (a === 'feeds' && parts.length === 1) return { title: 'Feeds', section: 'feeds', view: feedsView };
  if (a === 'account' && parts.length === 1) return { title: 'Your data', section: 'account', view: myDataView };
  return { title: 'Page not found', section: null, view: notFoundView };
}

// ---- rendering ---------------------------------------------------------------------------------

/** A fresh context for one view; `leave()` stops its timers and makes alive() false. */
function makeContext(heading) {
  let alive = true;
  const timers = new Set();
  const cleanups = [];
  return {
    state,
    heading,
    alive: () => alive,
    /** setTimeout that is cancelled when the view is left. */
    later(ms, fn) {
      const t = setTimeout(() => { timers.delete(t); if (alive) fn(); }, ms);
      timers.add(t);
      return t;
    },
    cancel(t) { clearTimeout(t); timers.delete(t); },
    onLeave(fn) { cleanups.push(fn); },
    navigate,
    announce,
    signedOut: (message) => showSignedOut(message),
    accountDeleted: () => showAccountDeleted(),
    leave() {
      alive = false;
      timers.forEach(clearTimeout);
      timers.clear();
      cleanups.forEach((fn) => fn());
    },
  };
}

/** Replaces <main> with a view: sets document.title, the <h1> (focused), the nav's current link. */
function mount({ title, section, view, params }) {
  current?.leave();
  const heading = h('h1', { tabindex: '-1' }, title);
  const body = h('div', { class: 'view-body' });
  current = makeContext(heading);
  document.title = `${title} - calgate`;
  for (const link of nav.querySelectorAll('a[data-section]')) {
    if (link.dataset.section === section) link.setAttribute('aria-current', 'page');
    else link.removeAttribute('aria-current');
  }
  flash.textContent = pendingFlash;
  pendingFlash = '';
  main.replaceChildren(heading, body);
  if (!firstRender) heading.focus();
  firstRender = false;
  view(current, body, params ?? {});
}

function render() {
  if (!state.session) return mount({ title: 'Sign in to calgate', section: null, view: signInView });
  nav.hidden = false;
  mount(route(location.hash));
}

/** Goes to `hash` (re-rendering even when it is the current one), with an optional status message. */
function navigate(hash, message = '') {
  pendingFlash = message;
  if (location.hash === hash) render();
  else location.hash = hash;
}

/** Says something in the status region (aria-live=polite) without moving focus. */
function announce(message) {
  flash.textContent = '';
  // a fresh text node after a tick, so the same message twice is read twice
  setTimeout(() => { flash.textContent = message; }, 50);
}

// ---- session -----------------------------------------------------------------------------------

function showSignedOut(message) {
  state.session = null;
  setCsrfToken('');
  nav.hidden = true;
  pendingFlash = message;
  mount({ title: 'Sign in to calgate', section: null, view: signInView });
}

function showAccountDeleted() {
  state.session = null;
  setCsrfToken('');
  nav.hidden = true;
  mount({ title: 'Your account was deleted', section: null, view: deletedView });
}

async function signOut() {
  const button = document.getElementById('signout');
  button.disabled = true;
  try {
    await api('DELETE', '/v1/session');
    showSignedOut('You are signed out.');
  } catch (err) {
    if (err instanceof SessionEnded) return; // already signed out: the sign-in view is showing
    announce(`Signing out failed: ${errorText(err)}`);
  } finally {
    button.disabled = false;
  }
}

// ---- small views owned by the shell ------------------------------------------------------------

function signInView(ctx, body) {
  const providers = state.config?.signin_providers ?? [];
  const names = { google: 'Google', microsoft: 'Microsoft' };
  const alertSlot = h('div', { role: 'alert', class: 'alert-slot' });
  const start = async (provider, button) => {
    alertSlot.replaceChildren();
    button.disabled = true;
    try {
      const { url } = await api('POST', paths.signin(provider));
      // come back to the page the person was on once the provider sends them back to /portal/
      if (location.hash && location.hash !== '#/') sessionStorage.setItem(RETURN_KEY, location.hash);
      window.location.href = url;
    } catch (err) {
      alertSlot.replaceChildren(h('p', { class: 'error' }, errorText(err)));
      button.disabled = false;
    }
  };
  body.append(
    h('p', {}, 'calgate keeps your calendars in step and publishes your free/busy times, under your rules and your organisation\'s.'),
    providers.length
      ? h('div', { class: 'actions signin' }, providers.map((p) => {
        const button = h('button', { type: 'button', class: 'primary' }, `Sign in with ${names[p] ?? p}`);
        button.addEventListener('click', () => start(p, button));
        return button;
      }))
      : null,
    alertSlot,
    h('p', {}, 'No Google or Microsoft account? Ask your calgate operator for a sign-in link.'));
}

function deletedView(ctx, body) {
  body.append(
    h('p', {}, 'calgate erased your user, sessions, connected accounts with their passwords, pairs and feeds. '
      + 'Copies already written to your calendars stay there: they are your events now.'),
    h('p', {}, h('a', { href: '#/' }, 'Go to the sign-in page')));
}

function notFoundView(ctx, body) {
  body.append(h('p', {}, 'There is no page at this address. '), h('p', {}, h('a', { href: '#/pairs' }, 'Go to your pairs')));
}

// ---- start -------------------------------------------------------------------------------------

async function start() {
  try {
    const [config, session] = await Promise.all([api('GET', '/portal/config'), getSession()]);
    state.config = config ?? {};
    state.session = session;
  } catch (err) {
    document.title = 'calgate';
    const retry = () => { main.replaceChildren(h('p', { class: 'loading' }, 'Loading…')); start(); };
    main.replaceChildren(h('h1', { tabindex: '-1' }, 'calgate is not available'),
      errorBox(err, retry));
    return;
  }
  warnAboutAddress(state.config.public_url);
  const back = sessionStorage.getItem(RETURN_KEY);
  if (state.session && back) {
    sessionStorage.removeItem(RETURN_KEY);
    if (!location.hash || location.hash === '#/') history.replaceState(null, '', back);
  }
  render();
}

/**
 * calgate accepts changes only from the address it was configured with (the browser's Origin is
 * checked): opened at another one (localhost for 127.0.0.1, a second host name), say where to go
 * before every change fails.
 */
function warnAboutAddress(publicUrl) {
  if (!publicUrl || location.origin === publicUrl) return;
  const here = `${publicUrl}/portal${location.hash}`;
  document.querySelector('.site-header').after(h('div', { class: 'warning address-warning', role: 'alert' },
    h('p', {}, `This page is open at ${location.origin}, but calgate works at ${publicUrl}: changes made here are refused. `,
      h('a', { href: here }, `Open calgate at ${publicUrl}`))));
}

onSessionEnded(() => showSignedOut('Your session ended. Sign in again to continue.'));

window.addEventListener('hashchange', () => {
  // in-page anchors (not routes) do not re-render
  if (location.hash && !location.hash.startsWith('#/')) return;
  if (state.config) render();
});

// the skip link focuses <main> without touching the hash (which is the router's)
document.querySelector('.skip-link').addEventListener('click', (e) => {
  e.preventDefault();
  main.focus();
});
document.getElementById('signout').addEventListener('click', signOut);

start();
