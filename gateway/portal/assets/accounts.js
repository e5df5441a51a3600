// calgate web portal: the account views - connected accounts with their calendars (#/accounts),
// connecting Google / Microsoft 365 through OAuth, and the CalDAV form (#/accounts/new-caldav)
// with help for iCloud, Fastmail and Nextcloud app-specific passwords.

import { api, paths, loadAccountsWithCalendars, ApiError, SessionEnded } from './api.js';
import {
  h, srOnly, fmtDate, plural, errorText, loadInto, confirmAction, busy, field, showFormError, clearFormErrors,
  defList, PROVIDER_NAMES,
} from './dom.js';

const ACCOUNT_STATUS = { active: 'Connected', needs_reauth: 'Needs to be connected again', disabled: 'Disabled' };
const OAUTH_NAMES = { google: 'Google', microsoft: 'Microsoft 365' };

/** POST /v1/accounts/oauth/{provider}, then off to calgate's start page (and the provider's consent). */
async function connectOAuth(provider, button, alertSlot) {
  alertSlot.replaceChildren();
  try {
    const { authorization_url: url } = await busy(button, 'Opening…', () => api('POST', paths.oauth(provider), {}));
    window.location.assign(url);
  } catch (err) {
    if (!(err instanceof SessionEnded)) alertSlot.replaceChildren(h('p', { class: 'error' }, errorText(err)));
  }
}

// ---- #/accounts --------------------------------------------------------------------------------

export async function accountsView(ctx, body) {
  const providers = ctx.state.config?.connect_providers ?? [];
  const alertSlot = h('div', { role: 'alert', class: 'alert-slot' });
  const listSlot = h('div');
  body.append(
    h('section', { class: 'panel' }, h('h2', {}, 'Connect an account'),
      h('p', {}, 'Google and Microsoft 365 accounts connect with their own sign-in: calgate never sees your password there. Other calendar servers connect through CalDAV with an app-specific password.'),
      h('div', { class: 'actions' },
        providers.map((p) => {
          const button = h('button', { type: 'button', class: 'primary' }, `Connect ${OAUTH_NAMES[p] ?? p}`);
          button.addEventListener('click', () => connectOAuth(p, button, alertSlot));
          return button;
        }),
        h('a', { class: 'button', href: '#/accounts/new-caldav' }, 'Connect a CalDAV account')),
      alertSlot),
    h('h2', {}, 'Your accounts'),
    listSlot);
  const load = async () => (await loadAccountsWithCalendars()).accounts;
  await loadInto(ctx, listSlot, load, (accounts) => {
    if (!accounts.length) {
      listSlot.append(h('p', {}, 'No accounts connected yet.'));
      return;
    }
    listSlot.append(h('ul', { class: 'cards', 'aria-label': 'Connected accounts' }, accounts.map((a) => accountCard(ctx, a))));
  });
}

function accountCard(ctx, account) {
  const name = PROVIDER_NAMES[account.provider] ?? account.provider;
  const calendarsSlot = h('div');
  const cardAlert = h('div', { role: 'alert', class: 'alert-slot' });
  const showCalendars = (calendars) => calendarsSlot.replaceChildren(
    h('h4', {}, `Calendars (${calendars.length})`),
    calendars.length
      ? h('ul', { class: 'calendars' }, calendars.map((c) => h('li', {}, c.name,
        c.writable ? null : h('span', { class: 'tag' }, 'read-only'),
        c.time_zone ? h('span', { class: 'hint' }, ` ${c.time_zone}`) : null)))
      : h('p', {}, 'No calendars found.'));
  showCalendars(account.calendars);

  const refresh = h('button', { type: 'button' }, 'Refresh calendars', srOnly(` of ${account.email}`));
  refresh.addEventListener('click', async () => {
    cardAlert.replaceChildren();
    try {
      const { calendars } = await busy(refresh, 'Refreshing…', () => api('GET', paths.calendars(account.id, true)));
      showCalendars(calendars);
      ctx.announce(`Calendars of ${account.email} refreshed: ${plural(calendars.length, 'calendar', 'calendars')}.`);
    } catch (err) {
      if (!(err instanceof SessionEnded)) cardAlert.replaceChildren(h('p', { class: 'error' }, errorText(err)));
    }
  });
  let reconnect = null;
  let password = null;
  if (account.provider !== 'caldav') {
    reconnect = h('button', { type: 'button', class: account.status === 'needs_reauth' ? 'primary' : '' }, 'Connect again', srOnly(` ${account.email}`));
    reconnect.addEventListener('click', () => connectOAuth(account.provider, reconnect, cardAlert));
  } else {
    password = passwordForm(ctx, account, cardAlert);
  }
  return h('li', { class: 'card' },
    h('h3', {}, `${name}: ${account.email}`),
    defList([
      ['Status', h('span', { class: account.status === 'active' ? '' : 'attention' }, ACCOUNT_STATUS[account.status] ?? account.status)],
      ['Server', account.server_url],
      ['Connected', fmtDate(account.created_at)],
      ['Proven to be', account.identities.length
        ? account.identities.map((i) => i.address ?? i.domain).filter((v, i, all) => all.indexOf(v) === i).join(', ')
        : 'nothing yet'],
    ]),
    account.identities_proven ? null : h('p', { class: 'hint' }, 'Refresh the calendars to prove who this account is.'),
    calendarsSlot,
    cardAlert,
    h('div', { class: 'actions' }, refresh, reconnect),
    password,
    confirmAction({
      label: ['Remove', srOnly(` ${name} account ${account.email}`)],
      question: `Remove ${account.email}? Its calendars and the pairs using them are deleted, and feeds lose them. Copies already written stay in their calendars.`,
      confirmLabel: 'Yes, remove account',
      action: async () => {
        await api('DELETE', paths.account(account.id));
        ctx.navigate('#/accounts', `Removed ${account.email}.`);
      },
    }));
}

/**
 * A CalDAV account's new app-specific password (the old one was revoked or expired): calgate checks
 * it against the server before it replaces the old one.
 */
function passwordForm(ctx, account, cardAlert) {
  const f = field('New app-specific password', h('input', { type: 'password', autocomplete: 'off', required: true }),
    'Make a new one at your provider (see "Connect a CalDAV account" for where); calgate checks it with the server first.');
  const save = h('button', { type: 'submit' }, 'Save password', srOnly(` for ${account.email}`));
  const form = h('form', { class: 'stack-form' }, f.wrap, save);
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    clearFormErrors({ password: f }, cardAlert);
    try {
      await busy(save, 'Checking with the server…', () => api('PATCH', paths.account(account.id), { password: f.control.value }));
      ctx.navigate('#/accounts', `The new password of ${account.email} works; its pairs resume.`);
    } catch (err) {
      showFormError(err, cardAlert, { password: f });
    }
  });
  return h('details', { class: 'password-change', open: account.status === 'needs_reauth' ? true : null },
    h('summary', {}, 'Change password', srOnly(` of ${account.email}`)), form);
}

// ---- #/accounts/new-caldav ---------------------------------------------------------------------

const HELP = [
  {
    name: 'iCloud',
    server: 'https://caldav.icloud.com',
    steps: [
      'Server URL: https://caldav.icloud.com',
      'Username: your Apple Account email address.',
      'Password: an app-specific password, not your Apple Account password. Sign in at account.apple.com, go to Sign-In and Security > App-Specific Passwords and make one (for example named “calgate”).',
      'App-specific passwords need two-factor authentication on your Apple Account. You can revoke one there at any time; calgate then stops syncing that account.',
    ],
  },
  {
    name: 'Fastmail',
    server: 'https://caldav.fastmail.com',
    steps: [
      'Server URL: https://caldav.fastmail.com',
      'Username: your Fastmail email address.',
      'Password: an app password. In Fastmail go to Settings > Privacy & Security > Manage app passwords and make a new one with CalDAV access.',
    ],
  },
  {
    name: 'Nextcloud',
    server: null,
    steps: [
      'Server URL: https://<your-nextcloud>/remote.php/dav (your Nextcloud address followed by /remote.php/dav).',
      'Username: your Nextcloud username.',
      'Password: an app password. In Nextcloud open Personal settings > Security > Devices & sessions and create a new app password.',
    ],
  },
];

const FIELD_OF_PROBLEM = {
  'caldav-unauthorized': 'password', 'caldav-unreachable': 'server_url', 'caldav-discovery-failed': 'server_url',
  'address-not-allowed': 'server_url', 'domain-mismatch': 'email',
};

export async function caldavView(ctx, body) {
  const f = {
    server_url: field('Server URL', h('input', { type: 'url', required: true, autocomplete: 'url', placeholder: 'https://', spellcheck: 'false' }),
      'The address of the CalDAV server; calgate finds the calendars from there.'),
    username: field('Username', h('input', { type: 'text', required: true, autocomplete: 'username', autocapitalize: 'none', spellcheck: 'false' })),
    password: field('App-specific password', h('input', { type: 'password', required: true, autocomplete: 'off' }),
      'Not your main password: make an app-specific password for calgate (see the help above). calgate stores it encrypted and never shows it again.'),
    email: field('Email address for this account (optional)', h('input', { type: 'email', autocomplete: 'off' }),
      'Shown as the account\'s name. By default the address the server reports, else your username. It must be one of the account\'s own addresses.'),
  };
  const fillButtons = (help) => {
    if (!help.server) return null;
    const b = h('button', { type: 'button' }, `Use ${help.name}'s server`);
    b.addEventListener('click', () => {
      f.server_url.control.value = help.server;
      f.username.control.focus();
      ctx.announce(`Server URL set to ${help.server}.`);
    });
    return b;
  };
  const alertSlot = h('div', { role: 'alert', class: 'alert-slot' });
  const submit = h('button', { type: 'submit', class: 'primary' }, 'Connect account');
  body.append(
    h('p', {}, 'iCloud, Fastmail, Nextcloud and other CalDAV servers connect with the server address, your username and an app-specific password. calgate checks the server and finds your calendars before it stores anything; the password is stored encrypted and never shown again.'),
    h('div', { class: 'help' }, HELP.map((help) => h('details', {},
      h('summary', {}, `Help for ${help.name}`),
      h('ul', {}, help.steps.map((s) => h('li', {}, s))),
      fillButtons(help)))),
    h('form', {
      class: 'form',
      onsubmit: async (e) => {
        e.preventDefault();
        clearFormErrors(f, alertSlot);
        const req = {
          provider: 'caldav',
          server_url: f.server_url.control.value.trim(),
          username: f.username.control.value.trim(),
          password: f.password.control.value,
        };
        const email = f.email.control.value.trim();
        if (email) req.email = email;
        try {
          const account = await busy(submit, 'Checking the server…', () => api('POST', '/v1/accounts', req));
          f.password.control.value = '';
          ctx.navigate('#/accounts', `Connected ${account.email}: ${plural(account.calendars.length, 'calendar', 'calendars')} found.`);
        } catch (err) {
          // problems without a `field` that still point at one control
          if (err instanceof ApiError && !err.field) err.field = FIELD_OF_PROBLEM[err.slug] ?? null;
          showFormError(err, alertSlot, f);
        }
      },
    }, Object.values(f).map((x) => x.wrap), alertSlot,
    h('div', { class: 'actions' }, submit, h('a', { class: 'button', href: '#/accounts' }, 'Cancel'))));
}
