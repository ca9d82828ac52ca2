// Decoders: the screen probes its list endpoint; a 404 shows "not available yet".
// (Alarms and rules have their own lazy-loaded screens: alarms.ts, rules.ts.)
import { h, field } from '../dom';
import { optional, request, Page } from '../api';
import { t, fmtDate } from '../i18n';
import { state, canEdit } from '../state';
import { title, section, table, notice, unavailable, errorText } from '../ui';

interface Decoder { id: number; name: string; kind: string; version: number; code: string; updatedAt?: string }
interface DecoderVersion { version: number; code: string; createdAt: string }
interface TestResult {
  output: unknown; readings: Array<{ key: string; ts: string; value: unknown; unit?: string }>;
  log: string[] | string; warnings?: string[]; durationUs?: number; error: string | null;
}

const NEW_CODE = 'function decodeUplink(input) {\n  // input.bytes, input.fPort\n  return { data: {} };\n}\n';

export async function decodersScreen(root: HTMLElement): Promise<void> {
  root.appendChild(title(t('decoders.title')));
  const org = state.orgId;
  const list = await optional<Page<Decoder>>(`/api/v1/organizations/${org}/decoders?limit=500`);
  if (list === null) { root.appendChild(unavailable()); return; }
  const editor = canEdit();
  const msg = h('div', { 'aria-live': 'polite' });
  const pick = h('select', { id: 'decoder-select' },
    h('option', { value: '' }, t('decoders.new')),
    list.items.map((d) => h('option', { value: String(d.id) }, `${d.name} (v${d.version})`)));
  const name = h('input', { type: 'text', id: 'decoder-name', autocomplete: 'off' });
  const code = h('textarea', { class: 'code', rows: '14', spellcheck: 'false', id: 'decoder-code' });
  const payload = h('input', { type: 'text', id: 'decoder-payload', autocomplete: 'off', placeholder: '01 2a ff' });
  const out = h('pre', { class: 'output', id: 'decoder-output', 'aria-live': 'polite' });
  const extra = h('div', { id: 'decoder-result' });
  const versions = h('div', { id: 'decoder-versions' });
  const current = () => list.items.find((d) => String(d.id) === pick.value) ?? null;
  const showVersions = async (d: Decoder | null) => {
    if (!d) { versions.replaceChildren(h('p', null, '–')); return; }
    try {
      const v = await request<{ items: DecoderVersion[] }>(`/api/v1/decoders/${d.id}/versions`);
      versions.replaceChildren(table(t('decoders.versions'), [t('decoders.version'), t('device.time'), ''],
        v.items.map((x) => [`v${x.version}`, fmtDate(x.createdAt), h('button', {
          type: 'button', class: 'secondary small', 'aria-label': `${t('decoders.load')} v${x.version}`,
          onclick: () => { code.value = x.code; },
        }, t('decoders.load'))])));
    } catch (e) { versions.replaceChildren(notice(errorText(e), 'error')); }
  };
  const select = () => {
    const d = current();
    name.value = d?.name ?? '';
    code.value = d?.code ?? NEW_CODE;
    void showVersions(d);
  };
  pick.addEventListener('change', select);
  if (list.items.length) pick.value = String(list.items[0].id);
  select();

  const run = h('button', {
    type: 'button', id: 'decoder-run',
    onclick: async () => {
      out.textContent = t('loading');
      extra.replaceChildren();
      const p = payload.value.trim();
      const hex = /^[0-9a-fA-F\s]*$/.test(p);
      try {
        const res = await request<TestResult>('/api/v1/decoders/test', {
          method: 'POST',
          body: { code: code.value, orgId: org, payload: hex ? p.replace(/\s+/g, '') : p, encoding: hex ? 'hex' : 'base64' },
        });
        out.textContent = res.error ? `${t('decoders.error')}: ${res.error}` : JSON.stringify(res.output, null, 2);
        const log = Array.isArray(res.log) ? res.log.join('\n') : res.log ?? '';
        extra.append(
          h('h3', null, t('decoders.readings')),
          res.readings.length ? table(t('decoders.readings'), [t('device.key'), t('device.valueCol')],
            res.readings.map((r) => [r.key, `${String(r.value)}${r.unit ? ` ${r.unit}` : ''}`])) : h('p', null, '–'),
          h('h3', null, t('decoders.log')), h('pre', { class: 'output', id: 'decoder-log' }, log || '–'),
          ...(res.warnings ?? []).map((w) => notice(w, 'info')));
      } catch (e) { out.textContent = errorText(e); }
    },
  }, t('decoders.run'));
  const save = h('button', {
    type: 'button', id: 'decoder-save', 'data-edit': '',
    onclick: async () => {
      msg.replaceChildren();
      const d = current();
      try {
        if (d) {
          await request(`/api/v1/decoders/${d.id}`, { method: 'PATCH', body: { name: name.value.trim() || d.name, code: code.value } });
        } else {
          await request(`/api/v1/organizations/${org}/decoders`, {
            method: 'POST', body: { name: name.value.trim() || 'decoder', kind: 'js', code: code.value },
          });
        }
        root.replaceChildren();
        await decodersScreen(root);
        root.prepend(notice(t('form.saved'), 'ok'));
      } catch (e) { msg.replaceChildren(notice(errorText(e), 'error')); }
    },
  }, t('form.save'));
  root.append(msg,
    section(t('decoders.code'), h('div', { class: 'row' }, field(t('decoders.title'), pick), field(t('form.name'), name)),
      field(t('decoders.code'), code), field(t('decoders.payload'), payload),
      h('div', { class: 'actions' }, editor ? run : null, editor ? save : null),
      h('h3', null, t('decoders.output')), out, extra),
    section(t('decoders.versions'), versions));
}
