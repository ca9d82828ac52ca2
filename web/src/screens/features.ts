// Alarms, rules and decoders: their endpoints arrive with issues 4 and 5.
// Each screen probes its list endpoint; a 404 shows "not available yet".
import { h, field } from '../dom';
import { optional, request, Page, Alarm } from '../api';
import { t, fmtDate } from '../i18n';
import { state, canEdit } from '../state';
import { title, section, table, notice, unavailable, errorText } from '../ui';

export async function alarmsScreen(root: HTMLElement): Promise<void> {
  root.appendChild(title(t('alarms.title')));
  const org = state.orgId;
  const [active, history] = state.features.get('alarms') === false ? [null, null] : await Promise.all([
    optional<Page<Alarm>>(`/api/v1/organizations/${org}/alarms?state=active&limit=200`),
    optional<Page<Alarm>>(`/api/v1/organizations/${org}/alarms?state=history&limit=200`),
  ]);
  if (active === null) { state.features.set('alarms', false); root.appendChild(unavailable()); return; }
  state.features.set('alarms', true);
  const msg = h('div', { 'aria-live': 'polite' });
  const act = async (a: Alarm, what: string, body: unknown) => {
    try {
      await request(`/api/v1/alarms/${a.id}/${what}`, { method: 'POST', body });
      state.data = null;
      root.replaceChildren();
      await alarmsScreen(root);
    } catch (e) { msg.replaceChildren(notice(errorText(e), 'error')); }
  };
  const rows = (list: Alarm[], withActions: boolean) => list.map((a) => {
    const cells: Array<Node | string> = [fmtDate(a.raisedAt ?? a.ts),
      a.deviceId ? h('a', { href: `/devices/${a.deviceId}` }, a.deviceName ?? String(a.deviceId)) : '–',
      a.severity ?? '', a.message ?? a.ruleName ?? '', a.state ?? ''];
    if (withActions) {
      if (canEdit()) {
        const comment = h('input', { type: 'text', 'aria-label': `${t('alarms.comment')} (${a.deviceName ?? a.id})` });
        cells.push(h('form', {
          class: 'inline', 'data-edit': '',
          onsubmit: (e: Event) => { e.preventDefault(); void act(a, 'acknowledge', { comment: comment.value }); },
        }, comment, h('button', { type: 'submit', class: 'small' }, t('alarms.ack'))));
      } else cells.push('');
    }
    return cells;
  });
  const heads = [t('alarms.raised'), t('alarms.device'), t('alarms.severity'), t('alarms.message'), t('devices.status')];
  root.append(msg,
    section(t('alarms.active'), active.items.length
      ? table(t('alarms.active'), [...heads, t('alarms.ack')], rows(active.items, true)) : h('p', null, t('alarms.none'))),
    section(t('alarms.history'), history && history.items.length
      ? table(t('alarms.history'), heads, rows(history.items, false)) : h('p', null, t('alarms.none'))));
}

interface Named { id: number; name: string; expression?: string; code?: string; enabled?: boolean }

export async function rulesScreen(root: HTMLElement): Promise<void> {
  root.appendChild(title(t('rules.title')));
  const list = await optional<Page<Named>>(`/api/v1/organizations/${state.orgId}/rules?limit=500`);
  if (list === null) { root.appendChild(unavailable()); return; }
  root.appendChild(section(t('rules.title'), list.items.length
    ? table(t('rules.title'), [t('devices.name'), 'Expression'],
      list.items.map((r) => [r.name, h('code', null, r.expression ?? '')]))
    : h('p', null, '–')));
}

export async function decodersScreen(root: HTMLElement): Promise<void> {
  root.appendChild(title(t('decoders.title')));
  const list = await optional<Page<Named>>(`/api/v1/organizations/${state.orgId}/decoders?limit=500`);
  if (list === null) { root.appendChild(unavailable()); return; }
  const code = h('textarea', { class: 'code', rows: '14', spellcheck: 'false', id: 'decoder-code' },
    list.items[0]?.code ?? 'function decodeUplink(input) {\n  return { data: {} };\n}\n');
  const payload = h('input', { type: 'text', id: 'decoder-payload', autocomplete: 'off' });
  const out = h('pre', { class: 'output', id: 'decoder-output', 'aria-live': 'polite' });
  const run = h('button', {
    type: 'button', id: 'decoder-run',
    onclick: async () => {
      out.textContent = t('loading');
      const p = payload.value.trim();
      const hex = /^[0-9a-fA-F\s]+$/.test(p);
      try {
        const res = await optional<unknown>('/api/v1/decoders/test', {
          method: 'POST',
          body: { code: code.value, payload: hex ? p.replace(/\s+/g, '') : p, payloadEncoding: hex ? 'hex' : 'base64' },
        });
        out.textContent = res === null ? t('unavailable') : JSON.stringify(res, null, 2);
      } catch (e) { out.textContent = errorText(e); }
    },
  }, t('decoders.run'));
  root.append(
    section(t('decoders.title'), list.items.length
      ? table(t('decoders.title'), [t('devices.name')], list.items.map((d) => [d.name])) : h('p', null, '–')),
    section(t('decoders.code'), field(t('decoders.code'), code), field(t('decoders.payload'), payload),
      canEdit() ? run : null, h('h3', null, t('decoders.output')), out));
}
