// calgate web portal: "Your data" (#/account) - who is signed in, the data export download, the
// sessions (revoke one, sign out) and deleting the account (typed-email confirmation, then
// DELETE /v1/me).

import { api, apiBlob, paths, SessionEnded } from './api.js';
import { h, srOnly, fmtTime, errorText, InputError, loadInto, confirmAction, busy, field, PROVIDER_NAMES } from './dom.js';

const VIA = { link: 'a sign-in link', google: 'Google', microsoft: 'Microsoft' };

export async function myDataView(ctx, body) {
  const { user, session } = ctx.state.session;
  body.append(
    h('section', { class: 'panel' }, h('h2', {}, 'You'),
      h('p', {}, 'Signed in as ', h('strong', { id: 'user-email' }, user.email), ` with ${VIA[session.via] ?? session.via}.`),
      h('p', { class: 'hint' }, `This session ends ${fmtTime(session.expires_at)}.`)),
    exportSection(ctx),
    sessionsSection(ctx),
    deleteSection(ctx, user));
}

function exportSection(ctx) {
  const alertSlot = h('div', { role: 'alert', class: 'alert-slot' });
  const button = h('button', { type: 'button', class: 'primary' }, 'Download my data');
  button.addEventListener('click', async () => {
    alertSlot.replaceChildren();
    try {
      const blob = await busy(button, 'Preparing…', () => apiBlob('/v1/me/export'));
      // a Blob URL opened by an <a download> click is a download, not something the page loads
      const url = URL.createObjectURL(blob);
      const a = h('a', { href: url, download: 'calgate-export.json', hidden: true });
      document.body.append(a);
      a.click();
      a.remove();
      setTimeout(() => URL.revokeObjectURL(url), 60_000);
      ctx.announce('Your data was downloaded as calgate-export.json.');
    } catch (err) {
      if (!(err instanceof SessionEnded)) alertSlot.replaceChildren(h('p', { class: 'error' }, errorText(err)));
    }
  });
  return h('section', { class: 'panel' }, h('h2', {}, 'Download my data'),
    h('p', {}, 'Everything calgate keeps about you, as one JSON file: your user, accounts and calendars, pairs with their status, '
      + 'event mappings (ids, times and fingerprints, never event content), feeds and your audit entries. No passwords, tokens or PINs.'),
    alertSlot, button);
}

function sessionsSection(ctx) {
  const listSlot = h('div');
  const signOut = h('button', { type: 'button' }, 'Sign out');
  const alertSlot = h('div', { role: 'alert', class: 'alert-slot' });
  signOut.addEventListener('click', async () => {
    try {
      await busy(signOut, 'Signing out…', () => api('DELETE', '/v1/session'));
      ctx.signedOut('You are signed out.');
    } catch (err) {
      if (!(err instanceof SessionEnded)) alertSlot.replaceChildren(h('p', { class: 'error' }, errorText(err)));
    }
  });
  const load = () => loadInto(ctx, listSlot, () => api('GET', '/v1/me/sessions'), ({ sessions }) => {
    listSlot.append(h('ul', { class: 'cards', id: 'sessions', 'aria-label': 'Your sessions' }, sessions.map((s) => {
      const revoke = confirmAction({
        label: ['Revoke', srOnly(s.current ? ' this browser\'s session' : ` session started ${fmtTime(s.created_at)}`)],
        question: s.current ? 'Revoke this browser\'s session? You are signed out here.' : 'Revoke this session? That browser is signed out.',
        confirmLabel: 'Yes, revoke session',
        action: async () => {
          await api('DELETE', paths.session(s.id));
          if (s.current) {
            ctx.signedOut('This session was revoked. You are signed out.');
            return;
          }
          ctx.announce('Session revoked.');
          await load();
          ctx.heading.focus(); // the button that had the focus is gone with the list
        },
      });
      return h('li', { class: 'card session', 'data-session-id': s.id, 'data-current': s.current ? 'true' : null },
        h('h3', {}, s.client || 'Unknown browser', s.current ? h('span', { class: 'tag' }, 'this browser') : null),
        h('p', {}, `Signed in with ${VIA[s.via] ?? PROVIDER_NAMES[s.via] ?? s.via} ${fmtTime(s.created_at)}; last seen ${fmtTime(s.last_seen_at)}; ends ${fmtTime(s.expires_at)}.`),
        revoke);
    })));
  });
  load();
  return h('section', { class: 'panel' }, h('h2', {}, 'Sessions'),
    h('p', {}, 'The browsers signed in to your calgate account. Revoke any you do not recognise.'),
    listSlot, alertSlot, h('div', { class: 'actions' }, signOut));
}

function deleteSection(ctx, user) {
  const input = h('input', { type: 'text', id: 'delete-confirm-email', autocomplete: 'off', spellcheck: 'false', autocapitalize: 'none' });
  const typed = field(`Type your email address (${user.email}) to confirm`, input);
  return h('section', { class: 'panel danger-zone' }, h('h2', {}, 'Delete my account'),
    h('p', {}, 'calgate stops syncing, revokes its access to your Google and Microsoft 365 accounts, and erases your user, '
      + 'sessions, accounts with their stored passwords, calendars, pairs, feeds and event mappings. Copies already written '
      + 'to your calendars stay there. calgate keeps a record that an erasure happened (a fingerprint of your email address '
      + 'and how many items were removed), and its tamper-evident audit log keeps its entries about your pairs (ids and '
      + 'decisions, never event content or your address).'),
    confirmAction({
      label: 'Delete my account',
      question: 'Delete your calgate account and everything calgate keeps for you? This cannot be undone.',
      confirmLabel: 'Delete my account permanently',
      extra: typed.wrap,
      action: async () => {
        if (input.value.trim() !== user.email) {
          input.setAttribute('aria-invalid', 'true');
          input.focus();
          throw new InputError(`That is not your email address. Type ${user.email} exactly to delete your account.`);
        }
        input.removeAttribute('aria-invalid');
        await api('DELETE', '/v1/me');
        ctx.accountDeleted();
      },
    }));
}
