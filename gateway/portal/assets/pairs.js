// calgate web portal: the pair views - the list (#/ and #/pairs), the form for a new pair
// (#/pairs/new) and one pair's page (#/pairs/<id>: status with live progress, preview, the
// organisation policy, settings and deletion). Only what the API returns is shown: never event
// titles or descriptions, even where a preview's `write` would hold them for a full-details pair.

import { api, paths, loadAccountsWithCalendars, ApiError, SessionEnded } from './api.js';
import {
  h, nextId, fmtTime, fmtEventTime, plural, errorText, loadInto, confirmAction, busy, field,
  showFormError, clearFormErrors, defList, PROVIDER_NAMES,
} from './dom.js';

const POLL_MS = 2000;

const DIRECTIONS = {
  one_way: { label: 'One-way', hint: 'Copy events from the source calendar into the target calendar.' },
  two_way: { label: 'Two-way', hint: 'Also copy events from the target calendar back into the source calendar (both must be writable).' },
};
const MODES = {
  private: { label: 'Private', hint: 'Copies are busy blocks: the title is replaced by your label; description, location and attendees are left out.' },
  full: { label: 'Full details', hint: 'Copies keep the title; you choose below whether description and location are copied.' },
};
const SHOW_AS = { '': 'As in the source event', busy: 'Busy', free: 'Free', tentative: 'Tentative', out_of_office: 'Out of office', working_elsewhere: 'Working elsewhere' };
const STATES = {
  active: 'Active', disabled: 'Disabled (not syncing)', needs_reauth: 'Waiting: an account must be connected again',
  quarantined: 'Quarantined', needs_confirmation: 'Paused: deletions wait for your confirmation',
};

// ---- naming ------------------------------------------------------------------------------------

/** "Work" or, with the account, "Work (Google, me@example.com)". */
function calName(byId, id, withAccount = false) {
  const entry = byId.get(id);
  if (!entry) return 'a calendar that is no longer connected';
  const { calendar, account } = entry;
  return withAccount ? `${calendar.name} (${PROVIDER_NAMES[account.provider] ?? account.provider}, ${account.email})` : calendar.name;
}

const pairTitle = (byId, pair) => `${calName(byId, pair.source_calendar_id)} → ${calName(byId, pair.target_calendar_id)}`;

function privacyText(rules) {
  if (rules.mode === 'private') return `Private: busy blocks titled “${rules.label}”`;
  const kept = [rules.description === 'keep' ? 'description' : null, rules.location === 'keep' ? 'location' : null].filter(Boolean);
  return `Full details: title${kept.length ? ', ' + kept.join(' and ') : ''}`;
}

// ---- status pieces (list and pair page) --------------------------------------------------------

/** The running job: a <progress> element and "Writing 12 of 40" / "Reading both calendars". */
function jobProgress(job) {
  if (!job?.running && !job?.queued) return null;
  if (!job.running) {
    return h('p', { class: 'job' }, job.next_run_at ? `Sync queued (starts ${fmtTime(job.next_run_at)}).` : 'Sync queued.');
  }
  const p = job.progress;
  const writing = p?.step === 'writing';
  const text = writing ? `Writing ${p.written} of ${p.planned}` : 'Reading both calendars';
  const id = nextId('progress');
  return h('div', { class: 'job' },
    h('p', { id }, `Syncing: ${text}`),
    writing && p.planned > 0
      ? h('progress', { class: 'sync-progress', max: String(p.planned), value: String(Math.min(p.written, p.planned)), 'aria-labelledby': id })
      : h('progress', { class: 'sync-progress', 'aria-labelledby': id }));
}

/** One line on how the pair is doing, for the list. */
function statusLine(status) {
  const parts = [];
  if (status.state !== 'active') parts.push(STATES[status.state] ?? status.state);
  if (status.last_error) parts.push(`Last sync failed: ${status.last_error}`);
  else if (status.last_success_at) parts.push(`Last synced ${fmtTime(status.last_success_at)}`);
  else parts.push('Not synced yet');
  if (status.failing.count) parts.push(plural(status.failing.count, 'event failing', 'events failing'));
  return h('div', { class: 'status-line' },
    h('p', { class: status.last_error || status.state !== 'active' ? 'attention' : '' }, parts.join(' · ')),
    jobProgress(status.job));
}

const active = (status) => Boolean(status?.job?.queued || status?.job?.running);

// ---- #/pairs -----------------------------------------------------------------------------------

export async function pairsView(ctx, body) {
  const listSlot = h('div');
  body.append(
    h('p', { class: 'actions' }, h('a', { class: 'button primary', href: '#/pairs/new' }, 'New pair')),
    listSlot);
  await loadInto(ctx, listSlot, async () => {
    const [{ pairs }, cals] = await Promise.all([api('GET', '/v1/pairs'), loadAccountsWithCalendars()]);
    const statuses = await Promise.all(pairs.map((p) => api('GET', paths.pairPart(p.id, 'status')).catch((e) => {
      if (e instanceof SessionEnded) throw e;
      return null; // one pair's status failing should not hide the list
    })));
    return { pairs, statuses, ...cals };
  }, ({ pairs, statuses, byId, accounts }) => {
    if (!pairs.length) {
      listSlot.append(h('p', {}, accounts.length
        ? 'No pairs yet. A pair copies the events of one calendar into another.'
        : ['No pairs yet. First ', h('a', { href: '#/accounts' }, 'connect your calendar accounts'), '.']));
      return;
    }
    const statusSlots = new Map();
    listSlot.append(h('ul', { class: 'cards', 'aria-label': 'Your pairs' }, pairs.map((pair, i) => {
      const slot = h('div', {}, statuses[i] ? statusLine(statuses[i]) : h('p', {}, 'Status not available right now.'));
      statusSlots.set(pair.id, slot);
      return h('li', { class: 'card' },
        h('h2', {}, h('a', { href: `#/pairs/${encodeURIComponent(pair.id)}` }, pairTitle(byId, pair))),
        defList([
          ['From', calName(byId, pair.source_calendar_id, true)],
          ['To', calName(byId, pair.target_calendar_id, true)],
          ['Direction', DIRECTIONS[pair.direction]?.label ?? pair.direction],
          ['Privacy', privacyText(pair.rules)],
        ]),
        slot);
    })));
    // keep the status of running syncs current while the list is open
    const poll = async (ids) => {
      const next = [];
      await Promise.all(ids.map(async (id) => {
        try {
          const s = await api('GET', paths.pairPart(id, 'status'));
          if (!ctx.alive()) return;
          statusSlots.get(id)?.replaceChildren(statusLine(s));
          if (active(s)) next.push(id);
        } catch (e) { if (!(e instanceof SessionEnded)) next.push(id); }
      }));
      if (next.length) ctx.later(POLL_MS, () => poll(next));
    };
    const running = pairs.filter((p, i) => active(statuses[i])).map((p) => p.id);
    if (running.length) ctx.later(POLL_MS, () => poll(running));
  });
}

// ---- the pair form (new and edit) --------------------------------------------------------------

function radioGroup(legend, name, options, checked, onchange) {
  return h('fieldset', { class: 'radios' }, h('legend', {}, legend),
    Object.entries(options).map(([value, { label, hint }]) => {
      const id = nextId(name);
      return h('div', { class: 'choice' },
        h('input', { type: 'radio', id, name, value, checked: value === checked, 'aria-describedby': hint ? `${id}-hint` : null, onchange }),
        h('label', { for: id }, label),
        hint ? h('p', { class: 'hint', id: `${id}-hint` }, hint) : null);
    }));
}

function select(options, value) {
  return h('select', {}, Object.entries(options).map(([v, text]) => h('option', { value: v, selected: v === value }, text)));
}

/** <select> of calendars grouped by account; `targetOnly` disables calendars calgate cannot write. */
function calendarSelect(accounts, targetOnly) {
  return h('select', { required: true },
    h('option', { value: '' }, 'Choose a calendar'),
    accounts.map((a) => h('optgroup', { label: `${PROVIDER_NAMES[a.provider] ?? a.provider}: ${a.email}` },
      a.calendars.map((c) => h('option', { value: c.id, disabled: targetOnly && !c.writable },
        c.writable ? c.name : `${c.name} (read-only)`)))));
}

const numberInput = (value, min, max) => h('input', { type: 'number', inputmode: 'numeric', min, max, required: true, value: String(value) });

/**
 * The pair's settings as form fields. `pair` null: a new pair (with calendar choices).
 * Returns {nodes, fields (API field name -> field), read() -> the request body}.
 */
function pairForm(accounts, pair) {
  const rules = pair?.rules ?? { mode: 'private', label: 'Busy', description: 'keep', location: 'keep', attendees: 'omit' };
  const win = pair?.window ?? { past_days: 90, future_days: 365 };
  const f = {};
  if (!pair) {
    f.source_calendar_id = field('Source calendar', calendarSelect(accounts, false), 'Events are copied from this calendar.');
    f.target_calendar_id = field('Target calendar', calendarSelect(accounts, true), 'Copies are written here. Read-only calendars cannot be targets.');
  }
  const direction = radioGroup('Direction', nextId('direction'), DIRECTIONS, pair?.direction ?? 'one_way');
  const mode = radioGroup('Privacy mode', nextId('mode'), MODES, rules.mode, () => syncMode());
  f['rules.label'] = field('Label for busy blocks', h('input', { type: 'text', maxlength: '100', value: rules.label }),
    'The title every copy gets, e.g. “Busy”.');
  const keepClear = { keep: 'Copy it', clear: 'Leave it out' };
  f['rules.description'] = field('Description', select(keepClear, rules.description));
  f['rules.location'] = field('Location', select(keepClear, rules.location));
  f['rules.show_as'] = field('Show copies as', select(SHOW_AS, rules.show_as ?? ''), 'Free/busy of the copies; the source event decides unless you choose here.');
  f['rules.attendees'] = field('Attendees', select({ omit: 'Leave them out', copy_where_silent: 'Copy the list where the target sends no invitations' }, rules.attendees));
  f['window.past_days'] = field('Days back', numberInput(win.past_days, 0, 3650), 'Events that ended up to this many days ago are kept in step (0 to 3650).');
  f['window.future_days'] = field('Days ahead', numberInput(win.future_days, 1, 3650), 'Events starting up to this many days ahead (1 to 3650).');
  let enabled = null;
  if (pair) {
    const id = nextId('enabled');
    enabled = h('div', { class: 'choice' }, h('input', { type: 'checkbox', id, checked: pair.enabled }), h('label', { for: id }, 'Enabled (sync this pair)'));
  }
  const modeValue = () => mode.querySelector('input:checked')?.value ?? 'private';
  const fullOnly = h('div', {}, f['rules.description'].wrap, f['rules.location'].wrap);
  // the label matters only for private copies; description/location only for full ones
  function syncMode() {
    const priv = modeValue() === 'private';
    f['rules.label'].wrap.hidden = !priv;
    f['rules.label'].control.required = priv;
    fullOnly.hidden = priv;
  }
  syncMode();
  const nodes = [
    f.source_calendar_id?.wrap, f.target_calendar_id?.wrap, direction,
    mode, f['rules.label'].wrap, fullOnly,
    h('details', { class: 'more' }, h('summary', {}, 'More rules'), f['rules.show_as'].wrap, f['rules.attendees'].wrap),
    h('fieldset', { class: 'window' }, h('legend', {}, 'Window'), f['window.past_days'].wrap, f['window.future_days'].wrap),
    enabled,
  ];
  const read = () => {
    const out = {
      direction: direction.querySelector('input:checked').value,
      rules: {
        mode: modeValue(),
        description: f['rules.description'].control.value,
        location: f['rules.location'].control.value,
        show_as: f['rules.show_as'].control.value || null,
        attendees: f['rules.attendees'].control.value,
      },
      window: { past_days: Number(f['window.past_days'].control.value), future_days: Number(f['window.future_days'].control.value) },
    };
    const label = f['rules.label'].control.value.trim();
    if (label) out.rules.label = label;
    if (!pair) {
      out.source_calendar_id = f.source_calendar_id.control.value;
      out.target_calendar_id = f.target_calendar_id.control.value;
      if (out.rules.show_as === null) delete out.rules.show_as;
    } else {
      out.enabled = enabled.querySelector('input').checked;
    }
    return out;
  };
  return { nodes, fields: f, read };
}

/** What a PATCH needs: only what differs from `pair` (changed rules or window re-render every copy). */
function patchOf(pair, wanted) {
  const patch = {};
  if (wanted.direction !== pair.direction) patch.direction = wanted.direction;
  if (wanted.enabled !== pair.enabled) patch.enabled = wanted.enabled;
  const rules = {};
  for (const [k, v] of Object.entries(wanted.rules)) if (v !== (pair.rules[k] ?? null)) rules[k] = v;
  if (Object.keys(rules).length) patch.rules = rules;
  const win = {};
  for (const [k, v] of Object.entries(wanted.window)) if (v !== pair.window[k]) win[k] = v;
  if (Object.keys(win).length) patch.window = win;
  return patch;
}

// ---- #/pairs/new -------------------------------------------------------------------------------

export async function newPairView(ctx, body) {
  await loadInto(ctx, body, loadAccountsWithCalendars, ({ accounts }) => {
    if (!accounts.some((a) => a.calendars.length)) {
      body.append(h('p', {}, 'A pair needs calendars. ', h('a', { href: '#/accounts' }, 'Connect an account'), ' first.'));
      return;
    }
    const form = pairForm(accounts, null);
    const alertSlot = h('div', { role: 'alert', class: 'alert-slot' });
    const submit = h('button', { type: 'submit', class: 'primary' }, 'Create pair');
    body.append(h('form', {
      class: 'form',
      onsubmit: async (e) => {
        e.preventDefault();
        clearFormErrors(form.fields, alertSlot);
        try {
          const pair = await busy(submit, 'Creating…', () => api('POST', '/v1/pairs', form.read()));
          ctx.navigate(`#/pairs/${encodeURIComponent(pair.id)}`, 'Pair created. Its first sync is queued.');
        } catch (err) {
          showFormError(err, alertSlot, form.fields);
        }
      },
    }, form.nodes, alertSlot, h('div', { class: 'actions' }, submit, h('a', { class: 'button', href: '#/pairs' }, 'Cancel'))));
  });
}

// ---- #/pairs/<id> ------------------------------------------------------------------------------

export async function pairView(ctx, body, { id }) {
  await loadInto(ctx, body, async () => {
    const [pair, cals, status] = await Promise.all([
      api('GET', paths.pair(id)), loadAccountsWithCalendars(), api('GET', paths.pairPart(id, 'status'))]);
    return { pair, status, ...cals };
  }, (data) => renderPair(ctx, body, data));
}

function renderPair(ctx, body, { pair, status, byId, accounts }) {
  ctx.heading.textContent = `Pair: ${pairTitle(byId, pair)}`;
  const statusSection = section('Status');
  const attention = h('div');
  const job = h('div', { class: 'job-slot' });
  const facts = h('div');
  const actionError = h('div', { role: 'alert', class: 'alert-slot' });
  const pollError = h('div', { role: 'alert', class: 'alert-slot' });
  const syncButton = h('button', { type: 'button', class: 'primary' }, 'Sync now');
  statusSection.append(attention, job, pollError, facts, actionError, h('div', { class: 'actions' }, syncButton));

  // status rendering and polling (every 2 s while a sync is queued or running)
  let timer = null;
  let attentionKey = '';
  let last = status;
  // after Confirm / Release the panel holding the focused button is replaced: focus its heading
  const onStatus = (next) => {
    last = next;
    showStatus(next);
    schedule(next);
    statusSection.querySelector('h2').focus();
  };
  const showStatus = (s) => {
    const key = [s.state, s.held_deletions?.digest, s.quarantine?.since].join('|');
    if (key !== attentionKey) { // re-rendered only when it changes: it holds buttons that may have focus
      attentionKey = key;
      attention.replaceChildren(...attentionPanel(ctx, pair, s, onStatus));
    }
    job.replaceChildren(jobProgress(s.job) ?? '');
    facts.replaceChildren(...statusFacts(s, byId));
  };
  const refresh = async () => {
    timer = null;
    try {
      const s = await api('GET', paths.pairPart(pair.id, 'status'));
      if (!ctx.alive()) return;
      if (active(last) && !active(s)) ctx.announce(s.last_error ? `Sync finished with an error: ${s.last_error}` : 'Sync finished.');
      last = s;
      pollError.replaceChildren();
      showStatus(s);
      schedule(s);
    } catch (err) {
      if (err instanceof SessionEnded || !ctx.alive()) return;
      pollError.replaceChildren(h('p', { class: 'error' }, `The status could not be refreshed: ${errorText(err)}`));
      timer = ctx.later(POLL_MS * 3, refresh); // keep trying, slower
    }
  };
  const schedule = (s) => {
    if (timer) ctx.cancel(timer);
    timer = active(s) ? ctx.later(POLL_MS, refresh) : null;
  };
  showStatus(status);
  schedule(status);

  syncButton.addEventListener('click', async () => {
    actionError.replaceChildren();
    try {
      const r = await busy(syncButton, 'Queueing…', () => api('POST', paths.pairPart(pair.id, 'sync')));
      ctx.announce(r.queued ? 'Sync queued.' : 'A sync was already queued.');
      last = { ...last, job: { ...last.job, queued: true } };
      if (timer) ctx.cancel(timer);
      timer = ctx.later(300, refresh);
    } catch (err) {
      if (!(err instanceof SessionEnded)) actionError.replaceChildren(h('p', { class: 'error' }, errorText(err)));
    }
  });

  const src = byId.get(pair.source_calendar_id)?.account;
  const tgt = byId.get(pair.target_calendar_id)?.account;
  body.append(
    defList([
      ['From', calName(byId, pair.source_calendar_id, true)],
      ['To', calName(byId, pair.target_calendar_id, true)],
    ]),
    statusSection,
    previewSection(ctx, pair),
    policySection(ctx, src, tgt),
    settingsSection(ctx, pair, accounts),
    deleteSection(ctx, pair));
}

const section = (title, cls = '') => h('section', { class: `panel ${cls}`.trim() }, h('h2', { tabindex: '-1' }, title));

/** Warnings that need the person: held deletions (with the two-step confirmation), quarantine, reauth. */
function attentionPanel(ctx, pair, s, onStatus) {
  const out = [];
  if (s.needs_confirmation && s.held_deletions) {
    const n = s.held_deletions.count;
    out.push(h('div', { class: 'warning' },
      h('h3', {}, 'Deletions wait for your confirmation'),
      h('p', {}, `calgate paused this pair: its next sync would delete ${plural(n, 'copy', 'copies')}, more than it deletes without asking.`),
      s.confirmation_reason ? h('p', {}, s.confirmation_reason) : null,
      h('p', {}, 'Use Preview below to see the steps. If the source calendar really lost these events, confirm; otherwise fix the source and sync again.'),
      confirmAction({
        label: 'Confirm deletion',
        question: `Delete ${plural(n, 'copy', 'copies')} from the target calendar? This cannot be undone.`,
        confirmLabel: `Yes, delete ${plural(n, 'copy', 'copies')}`,
        action: async () => {
          try {
            const next = await api('POST', paths.pairPart(pair.id, 'confirm'), { deletions: s.held_deletions.digest });
            ctx.announce('Deletion confirmed. The pair syncs again.');
            onStatus(next);
          } catch (err) {
            if (err instanceof ApiError && err.slug === 'deletions-changed') {
              throw new ApiError(409, { detail: 'The held deletions changed since this page showed them. Reload the page and check again.' });
            }
            throw err;
          }
        },
      })));
  }
  if (s.state === 'quarantined' && s.quarantine) {
    const release = h('button', { type: 'button' }, 'Release');
    const err = h('div', { role: 'alert', class: 'alert-slot' });
    release.addEventListener('click', async () => {
      try {
        const next = await busy(release, 'Releasing…', () => api('POST', paths.pairPart(pair.id, 'release')));
        ctx.announce('Released. A sync is queued.');
        onStatus(next);
      } catch (e) { if (!(e instanceof SessionEnded)) err.replaceChildren(h('p', { class: 'error' }, errorText(e))); }
    });
    out.push(h('div', { class: 'warning' }, h('h3', {}, 'Quarantined'),
      h('p', {}, `Since ${fmtTime(s.quarantine.since)}, this pair's sync kept stopping the worker, so calgate stopped scheduling it: ${s.quarantine.reason}`),
      h('p', {}, 'When the cause is fixed, release it to try again.'), err, release));
  }
  if (s.state === 'needs_reauth') {
    out.push(h('div', { class: 'warning' }, h('h3', {}, 'An account must be connected again'),
      h('p', {}, 'A provider no longer accepts calgate\'s access to one of this pair\'s calendars. On ',
        h('a', { href: '#/accounts' }, 'your accounts'), ', connect it again (Google, Microsoft 365) or give it a new app-specific password (CalDAV); the pair then resumes.')));
  }
  return out;
}

function statusFacts(s, byId) {
  const c = s.counts;
  const nodes = [defList([
    ['State', STATES[s.state] ?? s.state],
    ['Last successful sync', fmtTime(s.last_success_at, 'Never')],
    ['Last error', s.last_error ?? 'None'],
    ['Next sync', s.job.next_run_at && !s.job.running ? fmtTime(s.job.next_run_at) : null],
    ['Copied', String(c.synced)],
    ['Not copied (rules or organisation policy)', String(c.denied)],
    ['Deleted (source gone or out of the window)', String(c.deleted)],
    ['Copies you deleted (stay deleted)', String(c.kept_deleted)],
  ])];
  if (s.failing.count) {
    nodes.push(h('h3', {}, `Failing events (${s.failing.count})`),
      h('p', { class: 'hint' }, 'The target refused these copies; calgate tries again later and syncs everything else meanwhile.'),
      h('ul', { class: 'issues' }, s.failing.items.map((e) => h('li', {},
        h('span', { class: 'mono' }, e.source_event_id), `: ${e.reason}. `,
        `${plural(e.attempts, 'attempt', 'attempts')} since ${fmtTime(e.first_failed_at)}, next try ${fmtTime(e.next_retry_at)}.`))));
  }
  if (s.skipped.count) {
    nodes.push(h('h3', {}, `Skipped events (${s.skipped.count})`),
      h('p', { class: 'hint' }, 'calgate cannot take these from the source calendar and leaves them out.'),
      h('ul', { class: 'issues' }, s.skipped.items.map((e) => h('li', {},
        h('span', { class: 'mono' }, e.source_event_id), `: ${e.reason}. Seen since ${fmtTime(e.first_seen_at)}.`))));
  }
  if (s.push.length) {
    nodes.push(h('h3', {}, 'How calgate notices changes'), h('ul', { class: 'issues' }, s.push.map((p) => h('li', {},
      `${calName(byId, p.calendar_id)}: `,
      p.notified ? `the provider notifies calgate${p.expires_at ? ` (channel renewed before ${fmtTime(p.expires_at)})` : ''}.`
        : `checked regularly${p.reason ? ` (${p.reason})` : ''}.`))));
  }
  return nodes;
}

// ---- preview -----------------------------------------------------------------------------------

const ACTIONS = {
  create: 'Create copy', update: 'Update copy', restore: 'Restore copy', delete: 'Delete copy', deny: 'Not copied',
  unchanged: 'Unchanged', keep_deleted: 'Stays deleted', skipped: 'Skipped',
};
const CAUSES = {
  source_deleted: 'the source event was deleted', left_window: 'the event left the window', source_cancelled: 'the source event was cancelled',
  user_deleted: 'the copy was deleted in the target', source_rejected: 'the source event can no longer be approved',
  occurrence_cancelled: 'an occurrence was cancelled', rebuild: 'the copies are being rebuilt', policy_required: 'the organisation policy requires it',
};
const COPY_MODES = { full: 'Full details', private: 'Busy block', denied: 'Not copied' };

function previewSection(ctx, pair) {
  const s = section('Preview');
  const scopeField = field('What to plan', select({ next: 'The next sync', all: 'Every event in the window' }, 'next'));
  const out = h('div');
  const button = h('button', { type: 'button' }, 'Preview');
  button.addEventListener('click', async () => {
    out.replaceChildren(h('p', { class: 'loading' }, 'Loading…'));
    out.setAttribute('aria-busy', 'true');
    try {
      const scope = scopeField.control.value;
      const p = await busy(button, 'Reading calendars…', () => api('GET', `${paths.pairPart(pair.id, 'preview')}?limit=50&scope=${scope}`));
      if (!ctx.alive()) return;
      out.replaceChildren(...previewResult(p, pair));
      ctx.announce(`Preview ready: ${plural(p.items.length, 'step', 'steps')} shown.`);
    } catch (err) {
      if (!(err instanceof SessionEnded)) out.replaceChildren(h('div', { class: 'error', role: 'alert' }, h('p', {}, errorText(err))));
    } finally {
      out.removeAttribute('aria-busy');
    }
  });
  s.append(h('p', {}, 'A dry run: calgate reads both calendars now and shows what a sync would do, without writing anything.'),
    h('div', { class: 'inline-form' }, scopeField.wrap, button), out);
  return s;
}

/** "start – end"; all-day events end (exclusively) the day after their last day, so show that last day. */
function eventSpan(it) {
  const day = /^(\d{4})-(\d{2})-(\d{2})$/.exec(it.end ?? '');
  if (!it.all_day || !day) return `${fmtEventTime(it.start)} – ${fmtEventTime(it.end)}`;
  const last = new Date(Date.UTC(+day[1], +day[2] - 1, +day[3] - 1)).toISOString().slice(0, 10);
  return last <= it.start ? `${fmtEventTime(it.start)}, all day` : `${fmtEventTime(it.start)} – ${fmtEventTime(last)}, all day`;
}

function previewResult(p, pair) {
  const counts = Object.entries(p.counts).filter(([, n]) => n > 0).map(([a, n]) => `${n} ${(ACTIONS[a] ?? a).toLowerCase()}`);
  const g = p.guard;
  const nodes = [
    h('p', {}, `Planned ${fmtTime(p.generated_at)} for events between ${fmtTime(p.window.from)} and ${fmtTime(p.window.to)}. `,
      counts.length ? `The whole plan: ${counts.join(', ')}.` : 'Nothing to do.'),
  ];
  if (g.holds) {
    nodes.push(h('div', { class: 'warning' }, h('p', {},
      `The mass-delete guard holds this plan: ${plural(g.held_deletions, 'deletion waits', 'deletions wait')} for your confirmation (see Status above).`,
      g.reason ? ` ${g.reason}` : '')));
  } else if (g.trips && g.confirmed) {
    nodes.push(h('p', {}, `You confirmed these ${plural(g.held_deletions, 'deletion', 'deletions')}.`));
  }
  const op = p.org_policy;
  if (op && op.domain) {
    nodes.push(h('p', {}, `Organisation policy applied: ${op.domain}, ${LEVELS[op.level] ?? op.level} (${VALIDATION[op.validation] ?? op.validation}).`,
      op.reasons.length ? ` ${op.reasons.join(' ')}` : ''));
  }
  if (!p.items.length) return nodes;
  const twoWay = pair.direction === 'two_way';
  const cols = ['Step', 'Event time', twoWay ? 'Direction' : null, 'Copy', 'Why'].filter(Boolean);
  const rows = p.items.map((it) => {
    const why = [it.cause ? `Because ${CAUSES[it.cause] ?? it.cause}.` : '', ...it.reasons,
      it.held_by_guard ? 'Held by the mass-delete guard.' : (it.runs_now ? '' : 'Waits while the guard holds.')].filter(Boolean).join(' ');
    const cells = {
      Step: ACTIONS[it.action] ?? it.action,
      'Event time': `${eventSpan(it)}${it.recurring ? ' (series)' : ''}`,
      Direction: it.direction === 'target_to_source' ? 'Target → source' : 'Source → target',
      Copy: COPY_MODES[it.mode] ?? it.mode,
      Why: why || '—',
    };
    return h('tr', {}, cols.map((c, i) => (i === 0 ? h('th', { scope: 'row', 'data-label': c }, cells[c]) : h('td', { 'data-label': c }, cells[c]))));
  });
  nodes.push(h('div', { class: 'table-wrap' }, h('table', { class: 'stack', id: 'preview-table' },
    h('caption', {}, `${p.scope === 'all' ? 'Plan over every event in the window' : 'Plan for the next sync'}: ${plural(p.items.length, 'step', 'steps')} shown`),
    h('thead', {}, h('tr', {}, cols.map((c) => h('th', { scope: 'col' }, c)))),
    h('tbody', {}, rows))));
  return nodes;
}

// ---- organisation policy -----------------------------------------------------------------------

const LEVELS = { none: 'no restriction', private: 'private (copies outside the organisation are busy blocks)', block: 'block (events are not copied outside the organisation)' };
const VALIDATION = {
  secure: 'DNSSEC-validated', insecure: 'published without DNSSEC', bogus: 'DNSSEC validation failed, treated as private',
  indeterminate: 'could not be validated, treated as private', no_record: 'no policy published',
};
const IDENTITY_KINDS = {
  'verified-email': 'verified email', 'hosted-domain': 'Google Workspace domain', 'work-account': 'Microsoft work account',
  'caldav-address': 'address the CalDAV server reports', 'server-domain': 'domain of the CalDAV server', typed: 'address typed when connecting',
};

function policySection(ctx, src, tgt) {
  const s = section('Organisation policy');
  s.append(h('p', {}, 'Organisations can publish a privacy policy in their DNS. calgate applies the policy of every domain the source account is proven to belong to, on top of this pair\'s rules: the stricter one wins.'));
  if (!src) return s;
  const domains = [...new Set(src.identities.map((i) => i.domain).filter(Boolean))];
  s.append(h('h3', {}, 'Source account'), identityList(src));
  if (tgt) {
    const inside = [...new Set(tgt.identities.filter((i) => i.inside).map((i) => i.domain))];
    s.append(h('p', {}, inside.length ? `The target account is inside: ${inside.join(', ')}. Those organisations' restrictions do not apply to copies into it.`
      : 'The target account is not proven to be inside any organisation.'));
  }
  if (!domains.length) {
    s.append(h('p', {}, 'The source account belongs to no proven domain, so no organisation policy applies.'));
    return s;
  }
  const out = h('div');
  const button = h('button', { type: 'button' }, 'Look up the policies');
  button.addEventListener('click', async () => {
    out.replaceChildren(h('p', { class: 'loading' }, 'Loading…'));
    try {
      const views = await busy(button, 'Looking up…', () => Promise.all(domains.map((d) => api('GET', paths.policy(d)))));
      if (ctx.alive()) out.replaceChildren(...views.map(policyCard));
    } catch (err) {
      if (!(err instanceof SessionEnded)) out.replaceChildren(h('div', { class: 'error', role: 'alert' }, h('p', {}, errorText(err))));
    }
  });
  s.append(h('p', { class: 'hint' }, `A fresh, DNSSEC-validated lookup for ${domains.join(', ')} (at most 10 a minute).`), button, out);
  return s;
}

function identityList(account) {
  if (!account.identities.length) return h('p', {}, 'No identities are proven for this account.');
  return h('ul', { class: 'issues' }, account.identities.map((i) => h('li', {},
    `${i.domain}: ${IDENTITY_KINDS[i.kind] ?? i.kind}${i.address ? ` ${i.address}` : ''}${i.inside ? ' (inside the organisation)' : ''}`)));
}

function policyCard(v) {
  return h('div', { class: 'card' }, h('h3', {}, v.domain), defList([
    ['Level', LEVELS[v.level] ?? v.level],
    ['Record', VALIDATION[v.validation] ?? v.validation],
    ['Label for busy blocks', v.label],
    ['Full details allowed into', v.allow.length ? v.allow.join(', ') : null],
    ['Pinned', v.pinned ? `yes${v.pinned_until ? `, until ${fmtTime(v.pinned_until)}` : ''}` : 'no'],
    ['Why', v.reasons.length ? v.reasons.join(' ') : null],
    ['Notes', v.notes.length ? v.notes.join(' ') : null],
  ]));
}

// ---- settings and deletion ---------------------------------------------------------------------

function settingsSection(ctx, pair, accounts) {
  const s = section('Settings');
  const r = pair.rules;
  s.append(defList([
    ['Direction', DIRECTIONS[pair.direction]?.label ?? pair.direction],
    ['Privacy', privacyText(r)],
    ['Show copies as', SHOW_AS[r.show_as ?? '']],
    ['Attendees', r.attendees === 'omit' ? 'Left out' : 'Copied where the target sends no invitations'],
    ['Window', `${plural(pair.window.past_days, 'day', 'days')} back, ${plural(pair.window.future_days, 'day', 'days')} ahead`],
    ['Enabled', pair.enabled ? 'Yes' : 'No'],
    ['Created', fmtTime(pair.created_at)],
    ['Changed', fmtTime(pair.updated_at)],
  ]));
  const form = pairForm(accounts, pair);
  const alertSlot = h('div', { role: 'alert', class: 'alert-slot' });
  const submit = h('button', { type: 'submit', class: 'primary' }, 'Save changes');
  s.append(h('details', { class: 'edit' }, h('summary', {}, 'Change settings'),
    h('p', { class: 'hint' }, 'Changed rules or window rewrite every copy on the next sync.'),
    h('form', {
      class: 'form',
      onsubmit: async (e) => {
        e.preventDefault();
        clearFormErrors(form.fields, alertSlot);
        const patch = patchOf(pair, form.read());
        if (!Object.keys(patch).length) { alertSlot.replaceChildren(h('p', {}, 'Nothing changed.')); return; }
        try {
          await busy(submit, 'Saving…', () => api('PATCH', paths.pair(pair.id), patch));
          ctx.navigate(location.hash, 'Settings saved. A sync is queued.');
        } catch (err) {
          showFormError(err, alertSlot, form.fields);
        }
      },
    }, form.nodes, alertSlot, h('div', { class: 'actions' }, submit))));
  return s;
}

function deleteSection(ctx, pair) {
  const s = section('Delete pair', 'danger-zone');
  const copies = radioGroup('The copies calgate wrote', nextId('copies'), {
    keep: { label: 'Keep them in the target calendar', hint: 'A pair made again for the same calendars takes them over.' },
    delete: { label: 'Delete them too', hint: pair.direction === 'two_way' ? 'In both calendars of this two-way pair.' : 'From the target calendar.' },
  }, 'keep');
  s.append(copies, confirmAction({
    label: 'Delete pair',
    question: 'Delete this pair? calgate stops syncing these calendars.',
    confirmLabel: 'Yes, delete pair',
    action: async () => {
      const mode = copies.querySelector('input:checked').value;
      const r = await api('DELETE', `${paths.pair(pair.id)}?copies=${mode}`);
      ctx.navigate('#/pairs', r?.removing_copies ? 'The pair stopped. calgate deletes its copies, then the pair.' : 'Pair deleted.');
    },
  }));
  return s;
}

export { calName };
