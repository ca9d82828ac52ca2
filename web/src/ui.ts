// Shared small UI pieces: headings, notices, status badges, tables.
import { h, Child } from './dom';
import { t } from './i18n';
import { ApiError } from './api';
import { setScreenTitle } from './alarmCount';
import type { Status } from './state';

export function title(text: string, ...extra: Child[]): HTMLElement {
  setScreenTitle(text);
  return h('div', { class: 'page-head' }, h('h1', { id: 'page-title', tabindex: '-1' }, text), ...extra);
}

export function notice(text: string, kind: 'info' | 'error' | 'ok' | 'warn' = 'info'): HTMLElement {
  return h('p', { class: `notice ${kind}`, role: kind === 'error' ? 'alert' : 'status' }, text);
}

// Error codes the API answers (core/status.cc) and the client's own 'network': each has a
// sentence in the user's language that says what to do.
const ERROR_CODES = new Set([
  'invalid_argument', 'unauthenticated', 'permission_denied', 'not_found', 'already_exists',
  'failed_precondition', 'payload_too_large', 'unsupported_media_type', 'rate_limited',
  'unavailable', 'internal', 'network',
]);
// Codes whose server message helps the user (which field, which limit); the others' would only
// repeat the sentence in English.
const DETAIL_CODES = new Set(['invalid_argument', 'already_exists', 'failed_precondition', 'payload_too_large']);

// What went wrong and what to do, in the UI's language; the server's own message (English, for
// operations) follows only where it names what to correct.
export function errorText(e: unknown): string {
  if (!(e instanceof ApiError)) return t('error.other');
  const sentence = t(ERROR_CODES.has(e.code) ? `error.${e.code}` : 'error.other');
  return DETAIL_CODES.has(e.code) && e.message ? `${sentence} (${t('error.detail', { msg: e.message })}).` : `${sentence}.`;
}

export function unavailable(): HTMLElement {
  return h('div', { class: 'notice info unavailable', role: 'status' },
    h('strong', null, t('unavailable')), ' ', t('unavailable.detail'));
}

export function loading(): HTMLElement {
  return h('p', { class: 'loading', role: 'status' }, t('loading'));
}

export function badge(s: Status): HTMLElement {
  return h('span', { class: `badge st-${s}` }, h('span', { class: 'dot', 'aria-hidden': 'true' }), t(`status.${s}`));
}

// A table wider than its box scrolls sideways; keyboard users must be able to
// reach and scroll it, so an overflowing wrapper becomes focusable (WCAG 2.1.1).
let overflowWatch: ResizeObserver | null = null;
function watchOverflow(el: HTMLElement): void {
  overflowWatch ??= new ResizeObserver((entries) => {
    for (const e of entries) {
      const w = e.target as HTMLElement;
      if (w.scrollWidth > w.clientWidth + 1) w.tabIndex = 0;
      else w.removeAttribute('tabindex');
    }
  });
  overflowWatch.observe(el);
}

export function table(caption: string, heads: string[], rows: Child[][], cls = ''): HTMLElement {
  const wrap = tableWrap(caption, heads, rows, cls);
  watchOverflow(wrap);
  return wrap;
}

function tableWrap(caption: string, heads: string[], rows: Child[][], cls: string): HTMLElement {
  return h('div', { class: 'table-wrap' },
    h('table', { class: cls },
      h('caption', { class: 'sr-only' }, caption),
      h('thead', null, h('tr', null, heads.map((x) => h('th', { scope: 'col' }, x)))),
      // Each cell names its column: on a phone, a `cards` table shows rows as labelled cards.
      h('tbody', null, rows.map((r) => h('tr', null, r.map((c, i) => h('td', { 'data-label': heads[i] ?? null }, c)))))));
}

export function section(heading: string, ...children: Child[]): HTMLElement {
  return h('section', { class: 'card', 'aria-label': heading }, h('h2', null, heading), ...children);
}

// A form's required fields: each empty one is marked aria-invalid, the message is shown in
// `errBox` and the first empty one gets the focus. True when every one is filled.
export function requireFilled(fields: Array<HTMLInputElement | HTMLTextAreaElement>, errBox: HTMLElement,
  message: string): boolean {
  for (const el of fields) el.removeAttribute('aria-invalid');
  const missing = fields.filter((el) => !el.value.trim());
  if (!missing.length) return true;
  for (const el of missing) el.setAttribute('aria-invalid', 'true');
  errBox.replaceChildren(notice(message, 'error'));
  missing[0].focus();
  return false;
}


// A secret the server answers once (an API key, a device's key or broker password): the warning,
// the secret (selectable) and a copy button. `rows` adds labelled lines (e.g. the broker's user).
export function secretOnce(message: string, secret: string, id: string, rows: Array<[string, string]> = []): HTMLElement {
  const code = h('code', { class: 'secret', id }, secret);
  const done = h('span', { class: 'copied', 'aria-live': 'polite' });
  const copy = h('button', {
    type: 'button', class: 'secondary small', 'data-copy': id,
    onclick: async () => {
      try {
        await navigator.clipboard.writeText(secret);
        done.textContent = t('secret.copied');
      } catch {
        getSelection()?.selectAllChildren(code);  // no clipboard (insecure page): select it for Ctrl+C
        done.textContent = t('secret.selectToCopy');
      }
    },
  }, t('secret.copy'));
  return h('div', { class: 'notice ok secret-once', role: 'status' },
    h('p', null, message),
    rows.length ? h('dl', { class: 'secret-rows' }, rows.map(([k, v]) => [h('dt', null, k), h('dd', null, h('code', null, v))])) : null,
    code, h('p', { class: 'row' }, copy, done));
}
