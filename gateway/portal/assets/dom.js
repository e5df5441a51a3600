// calgate web portal: DOM helpers shared by every view.
// h() builds elements from data without ever parsing HTML (no innerHTML anywhere: calendar names,
// labels and error texts come from users and servers). The rest are small building blocks:
// time formatting, loading/error states, in-page confirmations, form error display.

import { ApiError, NetworkError, SessionEnded } from './api.js';

/**
 * h('button', {type: 'button', onclick: fn, class: 'primary'}, 'Text', childNode, [more], null)
 * Attributes: `class`, `for`, aria-*, data-* etc. are set as attributes; `on<event>` adds a
 * listener; boolean true sets an empty attribute, false/null/undefined leaves it out (so
 * `value`, `checked` and `selected` set the defaults a form reset returns to; a select's or a
 * textarea's `value` is set as the property). Children: strings become text nodes, arrays are
 * flattened, null/undefined/false are skipped.
 */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs ?? {})) {
    if (value === undefined || value === null || value === false) continue;
    if (name.startsWith('on') && typeof value === 'function') {
      el.addEventListener(name.slice(2), value);
    } else if (name === 'value' && (tag === 'select' || tag === 'textarea')) {
      el.value = value; // no such attribute: the property
    } else {
      el.setAttribute(name, value === true ? '' : String(value));
    }
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    if (Array.isArray(child)) append(el, child);
    else el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

/** Text only screen readers read (e.g. which account a "Remove" button removes). */
export const srOnly = (text) => h('span', { class: 'visually-hidden' }, text);

let uid = 0;
/** A unique id for label/aria-describedby wiring. */
export const nextId = (prefix = 'f') => `${prefix}-${++uid}`;

// ---- formatting --------------------------------------------------------------------------------

const dateTime = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short' });
const dateOnly = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium' });
const utcDateTime = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short', timeZone: 'UTC' });
const utcDate = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeZone: 'UTC' });

/** Unix seconds -> local date and time; null -> fallback. */
export function fmtTime(unix, fallback = '—') {
  return typeof unix === 'number' ? dateTime.format(new Date(unix * 1000)) : fallback;
}

/** Unix seconds -> local date. */
export function fmtDate(unix, fallback = '—') {
  return typeof unix === 'number' ? dateOnly.format(new Date(unix * 1000)) : fallback;
}

/** The preview's event times: RFC 3339 UTC ("...Z"), a date ("YYYY-MM-DD") or a floating local time. */
export function fmtEventTime(text) {
  const m = /^(\d{4})-(\d{2})-(\d{2})(?:T(\d{2}):(\d{2}):(\d{2})(Z?))?$/.exec(text ?? '');
  if (!m) return text ?? '';
  const [, y, mo, d, hh, mi, ss, z] = m;
  if (hh === undefined) return utcDate.format(new Date(Date.UTC(+y, +mo - 1, +d)));
  if (z === 'Z') return dateTime.format(new Date(text));
  // floating: the same wall-clock time everywhere, so format it without converting
  return `${utcDateTime.format(new Date(Date.UTC(+y, +mo - 1, +d, +hh, +mi, +ss)))} (local time)`;
}

export const plural = (n, one, many) => `${n} ${n === 1 ? one : many}`;

// ---- states: loading, errors -------------------------------------------------------------------

/** A problem the page itself found in what was typed: its message is shown as it is. */
export class InputError extends Error {}

/** What to tell a person about a failed request. */
export function errorText(err) {
  if (err instanceof InputError) return err.message;
  if (err instanceof NetworkError) return 'calgate could not be reached. Check your connection and try again.';
  if (err instanceof ApiError) return err.message;
  return 'Something went wrong in this page. Reload it and try again.';
}

/** An error message with a "Try again" button (role=alert: read out at once). */
export function errorBox(err, retry) {
  return h('div', { class: 'error', role: 'alert' },
    h('p', {}, errorText(err)),
    retry ? h('button', { type: 'button', onclick: retry }, 'Try again') : null);
}

/**
 * Fills `container` with "Loading…", runs `load()`, then hands its result to `render(data)`;
 * a failure shows what happened and a "Try again" button. A 401 is handled by the app (sign-in).
 */
export async function loadInto(ctx, container, load, render) {
  const attempt = async () => {
    container.replaceChildren(h('p', { class: 'loading' }, 'Loading…'));
    container.setAttribute('aria-busy', 'true');
    try {
      const data = await load();
      if (!ctx.alive()) return;
      container.replaceChildren();
      render(data);
    } catch (err) {
      if (!ctx.alive() || err instanceof SessionEnded) return;
      container.replaceChildren(errorBox(err, attempt));
    } finally {
      container.removeAttribute('aria-busy');
    }
  };
  await attempt();
}

/**
 * An in-page confirmation instead of window.confirm: the `trigger` button reveals a panel with
 * the question, a second explicit button and "Cancel". `action()` runs on the second button; a
 * thrown error is shown in the panel. Returns the element holding trigger and panel.
 */
export function confirmAction({ label, question, confirmLabel, action, danger = true, extra = null }) {
  const errorSlot = h('div', { role: 'alert', class: 'alert-slot' });
  const trigger = h('button', { type: 'button', class: danger ? 'danger' : 'primary', 'aria-expanded': 'false' }, label);
  const confirmBtn = h('button', { type: 'button', class: danger ? 'danger' : 'primary' }, confirmLabel);
  const cancelBtn = h('button', { type: 'button' }, 'Cancel');
  const questionId = nextId('q');
  const panel = h('div', { class: 'confirm', hidden: true, role: 'group', 'aria-labelledby': questionId },
    h('p', { id: questionId, class: 'confirm-question' }, question),
    extra,
    errorSlot,
    h('div', { class: 'actions' }, confirmBtn, cancelBtn));
  const toggle = (open) => {
    panel.hidden = !open;
    trigger.hidden = open;
    trigger.setAttribute('aria-expanded', String(open));
    errorSlot.replaceChildren();
    (open ? panel.querySelector('input') ?? confirmBtn : trigger).focus();
  };
  trigger.addEventListener('click', () => toggle(true));
  cancelBtn.addEventListener('click', () => toggle(false));
  confirmBtn.addEventListener('click', async () => {
    errorSlot.replaceChildren();
    confirmBtn.disabled = true;
    try {
      await action();
    } catch (err) {
      if (!(err instanceof SessionEnded)) errorSlot.replaceChildren(h('p', { class: 'error' }, errorText(err)));
    } finally {
      confirmBtn.disabled = false;
    }
  });
  return h('div', { class: 'confirm-wrap' }, trigger, panel);
}

/** A busy-while-running wrapper for buttons: disables `button` and swaps its text meanwhile. */
export async function busy(button, text, fn) {
  const old = [...button.childNodes]; // its nodes, not its text: hidden screen-reader text stays hidden
  button.disabled = true;
  button.textContent = text;
  try {
    return await fn();
  } finally {
    button.disabled = false;
    button.replaceChildren(...old);
  }
}

// ---- forms -------------------------------------------------------------------------------------

/**
 * A labelled field: h('label') + control + optional hint, wired with for/id and aria-describedby.
 * Returns {wrap, control, error} where `error` is the per-field message slot.
 */
export function field(labelText, control, hint = null) {
  const id = control.id || nextId();
  control.id = id;
  const hintId = hint ? `${id}-hint` : null;
  const errId = `${id}-error`;
  const error = h('p', { id: errId, class: 'field-error', hidden: true });
  if (hintId) control.setAttribute('aria-describedby', hintId);
  const wrap = h('div', { class: 'field' },
    h('label', { for: id }, labelText),
    hint ? h('p', { id: hintId, class: 'hint' }, hint) : null,
    control,
    error);
  return { wrap, control, error, hintId };
}

/**
 * Shows an API error for a form: the message in `alertSlot` (role=alert) and, when the problem
 * names a `field` that `fields` maps to a control, next to that control too (aria-invalid).
 */
export function showFormError(err, alertSlot, fields = {}) {
  clearFormErrors(fields);
  if (err instanceof SessionEnded) return;
  alertSlot.replaceChildren(h('p', { class: 'error' }, errorText(err)));
  const name = err instanceof ApiError ? err.field : null;
  const f = name ? (fields[name] ?? fields[name.split('.')[0]]) : null;
  if (f) {
    f.control.setAttribute('aria-invalid', 'true');
    f.error.textContent = err.message;
    f.error.hidden = false;
    f.control.setAttribute('aria-describedby', [f.hintId, f.error.id].filter(Boolean).join(' '));
  }
}

export function clearFormErrors(fields = {}, alertSlot = null) {
  alertSlot?.replaceChildren();
  for (const f of Object.values(fields)) {
    f.control.removeAttribute('aria-invalid');
    f.error.hidden = true;
    f.error.textContent = '';
    if (f.hintId) f.control.setAttribute('aria-describedby', f.hintId);
    else f.control.removeAttribute('aria-describedby');
  }
}

/** <dl> from [term, value] pairs (value: string or node); rows with null values are left out. */
export function defList(rows, cls = 'facts') {
  return h('dl', { class: cls }, rows.filter(([, v]) => v !== null && v !== undefined)
    .map(([t, v]) => h('div', {}, h('dt', {}, t), h('dd', {}, v))));
}

export const PROVIDER_NAMES = { google: 'Google', microsoft: 'Microsoft 365', caldav: 'CalDAV' };
