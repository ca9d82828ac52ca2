// Decoders: the screen probes its list endpoint; a 404 shows "not available yet".
// (Alarms and rules have their own lazy-loaded screens: alarms.ts, rules.ts.)
import { h, field, append } from '../dom';
import { optional, request, Page } from '../api';
import { t, fmtDate } from '../i18n';
import { state, canEdit } from '../state';
import { title, section, table, notice, unavailable, errorText } from '../ui';

interface Decoder {
  id: number; name: string; kind: string; version: number; code: string; contract?: string; updatedAt?: string;
}
interface DecoderVersion { version: number; code: string; contract?: string; createdAt: string }
interface TestResult {
  output: unknown; readings: Array<{ key: string; ts: string; value: unknown; unit?: string }>;
  log: string[] | string; warnings?: string[]; errors?: string[]; entryPoint?: string | null;
  durationUs?: number; error: string | null;
}

// The API's decoder contracts (POST/PATCH .../decoders `contract`).
const CONTRACTS = ['auto', 'os2iot', 'ttn', 'chirpstack', 'chirpstack-v3', 'ttn-v2'];

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
  const contract = h('select', { id: 'decoder-contract' },
    CONTRACTS.map((c) => h('option', { value: c }, t(`decoders.contract.${c}`))));
  const payload = h('input', { type: 'text', id: 'decoder-payload', autocomplete: 'off', placeholder: '01 2a ff' });
  const out = h('pre', { class: 'output', id: 'decoder-output', 'aria-live': 'polite' });
  const extra = h('div', { id: 'decoder-result' });
  const versions = h('div', { id: 'decoder-versions' });
  const current = () => list.items.find((d) => String(d.id) === pick.value) ?? null;
  const showVersions = async (d: Decoder | null) => {
    if (!d) { versions.replaceChildren(h('p', null, '–')); return; }
    try {
      const v = await request<{ items: DecoderVersion[] }>(`/api/v1/decoders/${d.id}/versions`);
      versions.replaceChildren(table(t('decoders.versions'),
        [t('decoders.version'), t('device.time'), t('decoders.contract'), ''],
        v.items.map((x) => [`v${x.version}`, fmtDate(x.createdAt), x.contract ?? 'auto', h('button', {
          type: 'button', class: 'secondary small', 'aria-label': `${t('decoders.load')} v${x.version}`,
          onclick: () => { code.value = x.code; contract.value = x.contract ?? 'auto'; },
        }, t('decoders.load'))])));
    } catch (e) { versions.replaceChildren(notice(errorText(e), 'error')); }
  };
  const select = () => {
    const d = current();
    name.value = d?.name ?? '';
    code.value = d?.code ?? NEW_CODE;
    contract.value = d?.contract ?? 'auto';
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
          body: {
            code: code.value, orgId: org, contract: contract.value,
            payload: hex ? p.replace(/\s+/g, '') : p, encoding: hex ? 'hex' : 'base64',
          },
        });
        // `output` is kept when the decoder returned data together with errors.
        const output = res.output === null || res.output === undefined ? '' : JSON.stringify(res.output, null, 2);
        out.textContent = res.error ? `${t('decoders.error')}: ${res.error}${output ? `\n\n${output}` : ''}` : output;
        const log = Array.isArray(res.log) ? res.log.join('\n') : res.log ?? '';
        append(extra, [
          res.entryPoint ? h('p', { id: 'decoder-entry' }, `${t('decoders.entryPoint')}: `, h('code', null, res.entryPoint)) : null,
          res.errors?.length ? h('div', { id: 'decoder-errors' }, h('h3', null, t('decoders.errors')),
            res.errors.map((e) => notice(e, 'error'))) : null,
          h('div', { id: 'decoder-warnings' },
            (res.warnings ?? []).map((w) => notice(`${t('decoders.warning')}: ${w}`, 'warn'))),
          h('h3', null, t('decoders.readings')),
          res.readings.length ? table(t('decoders.readings'), [t('device.key'), t('device.valueCol')],
            res.readings.map((r) => [r.key, `${String(r.value)}${r.unit ? ` ${r.unit}` : ''}`])) : h('p', null, '–'),
          h('h3', null, t('decoders.log')), h('pre', { class: 'output', id: 'decoder-log' }, log || '–')]);
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
          await request(`/api/v1/decoders/${d.id}`, {
            method: 'PATCH', body: { name: name.value.trim() || d.name, code: code.value, contract: contract.value },
          });
        } else {
          await request(`/api/v1/organizations/${org}/decoders`, {
            method: 'POST', body: { name: name.value.trim() || 'decoder', kind: 'js', code: code.value, contract: contract.value },
          });
        }
        root.replaceChildren();
        await decodersScreen(root);
        root.prepend(notice(t('form.saved'), 'ok'));
      } catch (e) { msg.replaceChildren(notice(errorText(e), 'error')); }
    },
  }, t('form.save'));
  root.append(msg,
    section(t('decoders.code'), h('div', { class: 'row' }, field(t('decoders.title'), pick), field(t('form.name'), name),
      field(t('decoders.contract'), contract)),
      field(t('decoders.code'), code), field(t('decoders.payload'), payload),
      h('div', { class: 'actions' }, editor ? run : null, editor ? save : null),
      h('h3', null, t('decoders.output')), out, extra),
    section(t('decoders.versions'), versions));
}
