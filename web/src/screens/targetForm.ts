// The create / edit form of a data target (src/api/data_targets.cc): HTTP push or MQTT
// publish. Secrets are write-only: header values (one "Name: value" per line; a header left
// out keeps its stored value, "Name:" with nothing after it removes it) and the MQTT password
// (empty on edit = keep). The devices forwarded are all of the application, or the ones ticked.
// A 400 answer is shown in a role=alert box inside the form, the form kept as typed.
import { h, field, uid } from '../dom';
import { request, Application } from '../api';
import { t } from '../i18n';
import { notice, errorText, requireFilled } from '../ui';
import type { DeviceRow } from '../state';

export interface TargetMetrics {
  status: string; sent: number; failed: number; deadLetters: number; queueDepth: number;
  lagSeconds: number; lastError: string; lastSuccessAt?: string | null;
}
export interface NgsiLdSettings {
  tenant?: string; context?: string; contextMode?: 'link' | 'body';
  auth?: { type: 'none' | 'header' | 'oauth2'; name?: string; tokenUrl?: string; clientId?: string; scope?: string };
}
export interface DataTarget {
  id: number; organizationId: number; applicationId: number; name: string; type: 'http' | 'mqtt' | 'ngsi-ld';
  url: string; format: 'bysans' | 'os2iot'; batchSize: number; timeoutMs: number; deviceIds: number[];
  headerNames: string[]; topic: string; qos: number; retain: boolean; username: string;
  hasPassword: boolean; paused: boolean; maxAttempts: number; maxAgeMs: number;
  ngsiLd?: NgsiLdSettings | null; metrics?: TargetMetrics | null;
  backfill?: { state: string; from: string; to: string; devicesTotal: number; devicesDone: number; records: number; error: string } | null;
}

export interface TargetFormOptions {
  item: DataTarget | null; apps: Application[]; rows: DeviceRow[];
  onSaved: (saved: DataTarget) => void; onCancel: () => void;
}

const HOUR_MS = 3_600_000;

// "Name: value" lines → the API's headers object; a value-less line removes the header.
export function parseHeaderLines(text: string): Record<string, string | null> | string {
  const out: Record<string, string | null> = {};
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (!line) continue;
    const colon = line.indexOf(':');
    if (colon <= 0) return line;
    const value = line.slice(colon + 1).trim();
    out[line.slice(0, colon).trim()] = value === '' ? null : value;
  }
  return out;
}

export function targetForm(o: TargetFormOptions): HTMLElement {
  const { item } = o;
  const text = (id: string, value: string, extra: Record<string, unknown> = {}) =>
    h('input', { type: 'text', id, autocomplete: 'off', spellcheck: 'false', value, ...extra });
  const num = (id: string, value: number, min: number, max: number) =>
    h('input', { type: 'number', id, min: String(min), max: String(max), step: '1', value: String(value) });
  const select = (id: string, options: Array<[string, string]>, value: string) => {
    const s = h('select', { id }, options.map(([v, label]) => h('option', { value: v }, label)));
    s.value = value;
    return s;
  };
  const name = text('tg-name', item?.name ?? '', { required: true });
  const app = select('tg-app', o.apps.map((a) => [String(a.id), a.name]), String(item?.applicationId ?? o.apps[0]?.id ?? ''));
  app.disabled = Boolean(item);
  const type = select('tg-type', [['http', t('tg.type.http')], ['mqtt', t('tg.type.mqtt')],
    ['ngsi-ld', t('tg.type.ngsi-ld')]], item?.type ?? 'http');
  type.disabled = Boolean(item);
  const url = text('tg-url', item?.url ?? '', { required: true, placeholder: 'https://modtager.kommune.dk/iot' });
  const format = select('tg-format', [['bysans', t('tg.format.bysans')], ['os2iot', t('tg.format.os2iot')]], item?.format ?? 'bysans');
  const batch = num('tg-batch', item?.batchSize ?? 1, 1, 1000);
  const timeout = num('tg-timeout', item?.timeoutMs ?? 10_000, 100, 120_000);
  const headers = h('textarea', { id: 'tg-headers', class: 'code', rows: '3', spellcheck: 'false', autocomplete: 'off',
    placeholder: 'Authorization: Bearer …' });
  const topic = text('tg-topic', item?.topic ?? 'kommune/{application}/{device}/up');
  const qos = select('tg-qos', [['0', '0'], ['1', '1']], String(item?.qos ?? 1));
  const retain = h('input', { type: 'checkbox', id: 'tg-retain', checked: item?.retain ?? false });
  const username = text('tg-username', item?.username ?? '');
  const password = h('input', { type: 'password', id: 'tg-password', autocomplete: 'new-password', value: '' });
  const attempts = num('tg-attempts', item?.maxAttempts ?? 10, 1, 1_000_000);
  const ageHours = num('tg-age', Math.round((item?.maxAgeMs ?? 24 * HOUR_MS) / HOUR_MS), 1, 366 * 24);
  const paused = h('input', { type: 'checkbox', id: 'tg-paused', checked: item?.paused ?? false });

  // The devices: all of the application, or a ticked selection.
  const all = h('input', { type: 'checkbox', id: 'tg-all', checked: !item || item.deviceIds.length === 0 });
  const deviceBox = h('fieldset', { id: 'tg-devices', class: 'device-pick' });
  const drawDevices = () => {
    const chosen = new Set(item?.deviceIds ?? []);
    const rows = o.rows.filter((r) => String(r.d.applicationId) === app.value);
    deviceBox.replaceChildren(h('legend', null, t('tg.devices')), ...rows.map((r) => {
      const id = `tg-dev-${r.d.id}`;
      return h('div', { class: 'field check' },
        h('input', { type: 'checkbox', id, value: String(r.d.id), checked: chosen.has(r.d.id) }),
        h('label', { for: id }, r.d.name));
    }));
    deviceBox.hidden = all.checked;
  };
  all.addEventListener('change', drawDevices);
  app.addEventListener('change', drawDevices);
  drawDevices();

  const httpFields = h('div', { id: 'tg-http' },
    h('div', { class: 'row' }, field(t('tg.format'), format, t('tg.formatHint')),
      field(t('tg.batch'), batch, t('tg.batchHint')), field(t('tg.timeout'), timeout)),
    field(t('tg.headers'), headers, item?.headerNames.length
      ? t('tg.headersKeep', { names: item.headerNames.join(', ') }) : t('tg.headersHint')));
  const mqttFields = h('div', { id: 'tg-mqtt' },
    h('div', { class: 'row' }, field(t('tg.topic'), topic, t('tg.topicHint')), field(t('tg.qos'), qos),
      h('div', { class: 'field check' }, retain, h('label', { for: 'tg-retain' }, t('tg.retain')))),
    h('div', { class: 'row' }, field(t('tg.username'), username),
      field(t('tg.password'), password, t(item?.hasPassword ? 'tg.passwordKeep' : 'tg.passwordHint'))));
  // FIWARE NGSI-LD: tenant, @context, and the broker's auth (its secret write-only).
  const ng = item?.ngsiLd ?? {};
  const tenant = text('tg-tenant', ng.tenant ?? '');
  const ctxMode = select('tg-context-mode', [['link', t('tg.ctx.link')], ['body', t('tg.ctx.body')]], ng.contextMode ?? 'link');
  const ctxUrl = text('tg-context', ng.context ?? '', { placeholder: 'https://smartdatamodels.org/context.jsonld' });
  const authType = select('tg-auth', [['none', t('tg.auth.none')], ['header', t('tg.auth.header')],
    ['oauth2', t('tg.auth.oauth2')]], ng.auth?.type ?? 'none');
  const headerName = text('tg-auth-name', ng.auth?.name ?? 'Authorization');
  const secret = h('input', { type: 'password', id: 'tg-auth-secret', autocomplete: 'new-password', value: '' });
  const tokenUrl = text('tg-token-url', ng.auth?.tokenUrl ?? '', { placeholder: 'https://idp.kommune.dk/oauth2/token' });
  const clientId = text('tg-client-id', ng.auth?.clientId ?? '');
  const scope = text('tg-scope', ng.auth?.scope ?? '');
  const headerAuth = h('div', { class: 'row' }, field(t('tg.auth.name'), headerName));
  const oauthFields = h('div', null, h('div', { class: 'row' }, field(t('tg.auth.tokenUrl'), tokenUrl),
    field(t('tg.auth.clientId'), clientId), field(t('tg.auth.scope'), scope)));
  const secretField = field(t('tg.auth.secret'), secret, t(item?.hasPassword ? 'tg.passwordKeep' : 'tg.passwordHint'));
  const ngsiFields = h('div', { id: 'tg-ngsild' },
    h('div', { class: 'row' }, field(t('tg.tenant'), tenant, t('tg.tenantHint')), field(t('tg.ctx'), ctxMode),
      field(t('tg.ctxUrl'), ctxUrl, t('tg.ctxUrlHint'))),
    h('div', { class: 'row' }, field(t('tg.auth'), authType), secretField), headerAuth, oauthFields);
  const showAuth = () => {
    headerAuth.hidden = authType.value !== 'header';
    oauthFields.hidden = authType.value !== 'oauth2';
    secretField.hidden = authType.value === 'none';
  };
  authType.addEventListener('change', showAuth);
  showAuth();
  const ngsiBody = (): Record<string, unknown> => {
    const auth: Record<string, unknown> = { type: authType.value };
    if (authType.value === 'header') auth.name = headerName.value.trim();
    if (authType.value === 'oauth2') Object.assign(auth, { tokenUrl: tokenUrl.value.trim(), clientId: clientId.value.trim(), scope: scope.value.trim() });
    if (secret.value) auth[authType.value === 'oauth2' ? 'clientSecret' : 'value'] = secret.value;
    return { tenant: tenant.value.trim(), contextMode: ctxMode.value, context: ctxUrl.value.trim(), auth };
  };

  const showType = () => {
    httpFields.hidden = type.value !== 'http';
    mqttFields.hidden = type.value !== 'mqtt';
    ngsiFields.hidden = type.value !== 'ngsi-ld';
    url.placeholder = type.value === 'mqtt' ? 'mqtts://broker.kommune.dk:8883'
      : type.value === 'ngsi-ld' ? 'https://fiware.kommune.dk' : 'https://modtager.kommune.dk/iot';
  };
  type.addEventListener('change', showType);
  showType();

  const errBox = h('div', { id: 'tg-form-error', class: 'form-error' });
  const body = (): Record<string, unknown> | string => {
    const b: Record<string, unknown> = {
      name: name.value.trim(), url: url.value.trim(), paused: paused.checked,
      maxAttempts: Number(attempts.value), maxAgeMs: Number(ageHours.value) * HOUR_MS,
      deviceIds: all.checked ? [] : [...deviceBox.querySelectorAll<HTMLInputElement>('input:checked')].map((c) => Number(c.value)),
    };
    if (!item) b.type = type.value;
    if (type.value === 'http') {
      Object.assign(b, { format: format.value, batchSize: Number(batch.value), timeoutMs: Number(timeout.value) });
      const parsed = parseHeaderLines(headers.value);
      if (typeof parsed === 'string') return t('tg.badHeader', { line: parsed });
      if (Object.keys(parsed).length) b.headers = parsed;
    } else if (type.value === 'mqtt') {
      Object.assign(b, { topic: topic.value.trim(), qos: Number(qos.value), retain: retain.checked, username: username.value });
      if (password.value) b.password = password.value;
    } else {
      Object.assign(b, { batchSize: Number(batch.value), timeoutMs: Number(timeout.value), ngsiLd: ngsiBody() });
    }
    return b;
  };
  const titleId = uid('tg-form-title');
  const save = h('button', { type: 'submit', id: 'tg-save' }, t('form.save'));
  return h('form', {
    id: 'target-form', class: 'card', 'aria-labelledby': titleId, 'aria-describedby': errBox.id,
    novalidate: true, 'data-edit': '',
    onsubmit: async (ev: Event) => {
      ev.preventDefault();
      errBox.replaceChildren();
      if (!requireFilled([name, url], errBox, t('tg.required'))) return;
      const b = body();
      if (typeof b === 'string') { errBox.replaceChildren(notice(b, 'error')); headers.focus(); return; }
      save.disabled = true;
      try {
        const path = item ? `/api/v1/data-targets/${item.id}` : `/api/v1/applications/${app.value}/data-targets`;
        o.onSaved(await request<DataTarget>(path, { method: item ? 'PUT' : 'POST', body: b }));
      } catch (e) {
        errBox.replaceChildren(notice(errorText(e), 'error'));
      } finally { save.disabled = false; }
    },
  },
  h('h3', { id: titleId }, item ? `${t('tg.editTitle')}: ${item.name}` : t('tg.newTitle')),
  h('div', { class: 'row' }, field(t('form.name'), name), field(t('tg.app'), app), field(t('tg.type'), type)),
  field(t('tg.url'), url, t('tg.urlHint')),
  httpFields, mqttFields, ngsiFields,
  h('div', { class: 'field check' }, all, h('label', { for: 'tg-all' }, t('tg.allDevices'))), deviceBox,
  h('div', { class: 'row' }, field(t('tg.attempts'), attempts, t('tg.attemptsHint')), field(t('tg.age'), ageHours),
    h('div', { class: 'field check' }, paused, h('label', { for: 'tg-paused' }, t('tg.paused')))),
  errBox,
  h('div', { class: 'actions' }, save,
    h('button', { type: 'button', class: 'secondary', onclick: o.onCancel }, t('form.cancel'))));
}
