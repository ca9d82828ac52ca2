// Rules screen (lazy-loaded): list, create, edit, delete the organisation's
// rules; expression errors are shown at their position (a caret under the
// offending column, announced through aria-describedby + role=alert); a dry
// run replays a device's history and shows when the rule would have fired.
import { h, field, append } from '../dom';
import { optional, request, ApiError, Page } from '../api';
import { t, fmtDate } from '../i18n';
import { state, canEdit, orgData } from '../state';
import { title, section, table, notice, unavailable, errorText } from '../ui';

type ScopeKind = 'device' | 'application' | 'device_model' | 'tag' | 'gateway';
type CondKind = 'expression' | 'silence' | 'rate_of_change' | 'gateway_offline' | 'gateway_packets';
interface Action {
  type: string; url?: string; from?: string; to?: string[]; on?: string[]; topic?: string; payload?: string;
  fPort?: number; hex?: string; data?: string; confirmed?: boolean; message?: string; via?: string;
  [k: string]: unknown;
}
export interface Rule {
  id: number; name: string; scope: { kind: ScopeKind; id?: number; tag?: string; gatewayId?: string };
  severity: string; kind: CondKind; expression?: string; clearExpression?: string;
  forMs?: number; remindEveryMs?: number; enabled: boolean;
  // An alarm that clears by itself stays open until a person acknowledges it (default: critical).
  requireAcknowledge?: boolean;
  silence?: { fixedMs: number; intervalMultiple: number };
  rate?: { key: string; windowMs: number; threshold: number; direction: string };
  // Gateway rules (scope "gateway", issue 20): offline for offlineMs, or packets per hour outside [min, max].
  gateway?: { offlineMs?: number; counter?: string; min?: number | null; max?: number | null };
  actions: Action[]; warnings?: string[]; error?: string;
}
interface DryRun {
  raises: number; clears: number; raisedAt: string[]; clearedAt: string[]; activeAtEnd: boolean;
  readingsUsed: number; from: string; to: string;
}
interface ErrBody { error?: { code?: string; message?: string; field?: string; position?: { offset: number; line: number; column: number } } }

const SEVERITIES = ['info', 'warning', 'critical'];
const SCOPES: ScopeKind[] = ['device', 'application', 'device_model', 'tag', 'gateway'];
const KINDS: CondKind[] = ['expression', 'silence', 'rate_of_change'];
const GATEWAY_KINDS: CondKind[] = ['gateway_offline', 'gateway_packets'];
const COUNTERS = ['rx_received_ok', 'rx_received', 'tx_received', 'tx_emitted'];
const MIN = 60_000;

// POST/PATCH with the full error body (field, position) kept.
async function send(path: string, method: string, body: unknown): Promise<{ ok: true; rule: Rule } | { ok: false; err: ErrBody; status: number }> {
  const res = await fetch(path, {
    method, credentials: 'same-origin',
    headers: { Accept: 'application/json', 'Content-Type': 'application/json' }, body: JSON.stringify(body),
  });
  if (res.status === 401) {
    // Let the shared client handle the expiry (login screen).
    await request('/api/v1/auth/me').catch(() => {});
    return { ok: false, err: {}, status: 401 };
  }
  const text = await res.text();
  let j: unknown = null;
  try { j = text ? JSON.parse(text) : null; } catch { /* not JSON */ }
  if (res.ok) return { ok: true, rule: j as Rule };
  return { ok: false, err: (j ?? {}) as ErrBody, status: res.status };
}

function b64hex(b64: string | undefined): string {
  if (!b64) return '';
  try { return Array.from(atob(b64), (c) => c.charCodeAt(0).toString(16).padStart(2, '0')).join(''); } catch { return ''; }
}

// The expression with a caret under the column, and the message.
export function positionMarker(expr: string, line: number, column: number): HTMLElement {
  const lines = expr.split('\n');
  const l = Math.min(Math.max(line, 1), lines.length);
  const text = lines[l - 1] ?? '';
  const col = Math.max(1, column);
  const before = text.slice(0, col - 1);
  const at = text.slice(col - 1, col) || ' ';
  const after = text.slice(col);
  return h('pre', { class: 'expr-marker', 'aria-hidden': 'true' },
    before, h('mark', { class: 'expr-bad' }, at), after, '\n', `${' '.repeat(col - 1)}^`);
}

export async function rulesScreen(root: HTMLElement): Promise<void> {
  root.appendChild(title(t('rules.title')));
  const org = state.orgId;
  const list = await optional<Page<Rule>>(`/api/v1/organizations/${org}/rules?limit=500`);
  if (list === null) { root.appendChild(unavailable()); return; }
  const od = await orgData();
  const editor = canEdit();
  // The organisation's LoRaWAN gateways, for a gateway rule's scope (none: "all gateways" only).
  const gwList = editor ? await optional<{ items: Array<{ gatewayId: string }> }>(`/api/v1/organizations/${org}/gateways`) : null;
  const gateways = (gwList?.items ?? []).map((g) => g.gatewayId);
  const msg = h('div', { 'aria-live': 'polite', id: 'rules-msg' });
  const formBox = h('div', { id: 'rule-form-box' });
  const dryBox = h('div', { id: 'dry-run-box' });
  const reload = async (note?: string) => {
    root.replaceChildren();
    await rulesScreen(root);
    if (note) root.querySelector('#rules-msg')?.replaceChildren(notice(note, 'ok'));
  };
  const scopeText = (r: Rule) => {
    const s = r.scope;
    if (s.kind === 'tag') return `${t('rules.scope.tag')}: ${s.tag ?? ''}`;
    if (s.kind === 'gateway') return `${t('rules.scope.gateway')}: ${s.gatewayId || t('rules.gwAll')}`;
    let name = String(s.id ?? '');
    if (s.kind === 'device') name = od.byId.get(s.id ?? 0)?.d.name ?? name;
    if (s.kind === 'application') name = od.apps.find((a) => a.id === s.id)?.name ?? name;
    if (s.kind === 'device_model') name = od.models.find((m) => m.id === s.id)?.name ?? name;
    return `${t(`rules.scope.${s.kind}`)}: ${name}`;
  };
  const condText = (r: Rule): Node | string => {
    if (r.kind === 'expression') return h('code', null, r.expression ?? '');
    if (r.kind === 'gateway_offline') return t('rules.gwOfflineText', { n: (r.gateway?.offlineMs ?? 0) / MIN });
    if (r.kind === 'gateway_packets') {
      const g: NonNullable<Rule['gateway']> = r.gateway ?? {};
      return t('rules.gwPacketsText', { c: t(`rules.gwCounter.${g.counter ?? 'rx_received_ok'}`), min: g.min ?? '–', max: g.max ?? '–' });
    }
    if (r.kind === 'silence') {
      return r.silence?.fixedMs ? t('rules.silenceFixed', { n: r.silence.fixedMs / MIN })
        : t('rules.silenceMultipleText', { n: r.silence?.intervalMultiple ?? 0 });
    }
    return t('rules.rateText', { key: r.rate?.key ?? '', n: r.rate?.threshold ?? 0, m: (r.rate?.windowMs ?? 0) / MIN });
  };
  const rows = list.items.map((r) => [
    h('span', { class: 'rule-name' }, r.name ?? `#${r.id}`), scopeText(r), condText(r), t(`severity.${r.severity}`),
    r.enabled === false ? t('rules.off') : t('rules.on'),
    ...(editor ? [h('div', { class: 'actions' },
      h('button', {
        type: 'button', class: 'secondary small', 'data-edit': '', 'aria-label': `${t('rules.edit')}: ${r.name}`,
        onclick: () => { dryBox.replaceChildren(); formBox.replaceChildren(ruleForm(r)); formBox.querySelector('input')?.focus(); },
      }, t('rules.edit')),
      r.scope?.kind === 'gateway' ? null : h('button', {
        type: 'button', class: 'secondary small', 'data-edit': '', 'aria-label': `${t('rules.dryRun')}: ${r.name}`,
        onclick: () => { formBox.replaceChildren(); dryBox.replaceChildren(dryRunPanel(r)); dryBox.querySelector('select')?.focus(); },
      }, t('rules.dryRun')),
      h('button', {
        type: 'button', class: 'danger small', 'data-edit': '', 'aria-label': `${t('rules.delete')}: ${r.name}`,
        onclick: async () => {
          if (!confirm(t('rules.confirmDelete', { name: r.name }))) return;
          try {
            await request(`/api/v1/rules/${r.id}`, { method: 'DELETE' });
            await reload(t('rules.deleted'));
          } catch (e) { msg.replaceChildren(notice(errorText(e), 'error')); }
        },
      }, t('rules.delete')))] : []),
  ]);

  function ruleForm(r: Rule | null): HTMLElement {
    const name = h('input', { type: 'text', id: 'rule-name', required: true, autocomplete: 'off', value: r?.name ?? '' });
    const severity = h('select', { id: 'rule-severity' }, SEVERITIES.map((s) => h('option', { value: s }, t(`severity.${s}`))));
    severity.value = r?.severity ?? 'warning';
    const scopeKind = h('select', { id: 'rule-scope-kind' }, SCOPES.map((s) => h('option', { value: s }, t(`rules.scope.${s}`))));
    scopeKind.value = r?.scope.kind ?? 'application';
    const scopeTarget = h('select', { id: 'rule-scope-target' });
    const scopeTag = h('input', { type: 'text', id: 'rule-scope-tag', autocomplete: 'off', value: r?.scope.tag ?? '' });
    const targetField = field(t('rules.scopeTarget'), scopeTarget);
    const tagField = field(t('rules.scope.tag'), scopeTag);
    // Gateway scope: one of the organisation's gateways, or all of them ("*").
    const scopeGateway = h('select', { id: 'rule-scope-gateway' }, h('option', { value: '*' }, t('rules.gwAll')),
      ...gateways.map((g) => h('option', { value: g }, g)));
    const wantGw = r?.scope.kind === 'gateway' ? (r.scope.gatewayId || '*') : '*';
    if (wantGw !== '*' && !gateways.includes(wantGw)) scopeGateway.append(h('option', { value: wantGw }, wantGw));
    scopeGateway.value = wantGw;
    const gatewayField = field(t('rules.gwTarget'), scopeGateway);
    const kind = h('select', { id: 'rule-kind' });
    const fillKinds = (gw: boolean) => {
      const kinds = gw ? GATEWAY_KINDS : KINDS;
      if (kind.options.length && (kind.options[0].value === kinds[0])) return;
      const prev = kind.value || r?.kind || '';
      kind.replaceChildren(...kinds.map((k) => h('option', { value: k }, t(`rules.kind.${k}`))));
      kind.value = kinds.includes(prev as CondKind) ? prev : kinds[0];
    };
    const deviceOnly: HTMLElement[] = [];  // actions a gateway rule cannot have (no device, no contacts)
    const fillTargets = () => {
      const k = scopeKind.value as ScopeKind;
      const opts: Array<[number, string]> = k === 'device' ? od.rows.map((x) => [x.d.id, x.d.name])
        : k === 'application' ? od.apps.map((a) => [a.id, a.name])
          : k === 'device_model' ? od.models.map((m) => [m.id, m.name]) : [];
      scopeTarget.replaceChildren(...opts.map(([id, n]) => h('option', { value: String(id) }, n)));
      if (r && r.scope.kind === k && r.scope.id) scopeTarget.value = String(r.scope.id);
      targetField.hidden = k === 'tag' || k === 'gateway';
      tagField.hidden = k !== 'tag';
      gatewayField.hidden = k !== 'gateway';
      for (const el of deviceOnly) el.hidden = k === 'gateway';
      fillKinds(k === 'gateway');
      kind.dispatchEvent(new Event('change'));
    };
    scopeKind.addEventListener('change', fillTargets);
    fillKinds(scopeKind.value === 'gateway');
    kind.value = r?.kind ?? kind.value;
    const exprErr = h('div', { id: 'rule-expression-error', class: 'expr-error', role: 'alert' });
    const clearErr = h('div', { id: 'rule-clear-error', class: 'expr-error', role: 'alert' });
    const expr = h('textarea', {
      id: 'rule-expression', class: 'code', rows: '3', spellcheck: 'false',
    });
    expr.value = r?.expression ?? '';
    const clearExpr = h('textarea', {
      id: 'rule-clear-expression', class: 'code', rows: '2', spellcheck: 'false', 'aria-describedby': 'rule-clear-error',
    });
    clearExpr.value = r?.clearExpression ?? '';
    const forMin = h('input', { type: 'number', id: 'rule-for', min: '0', step: 'any', value: String((r?.forMs ?? 0) / MIN) });
    const remindMin = h('input', { type: 'number', id: 'rule-remind', min: '0', step: 'any', value: String((r?.remindEveryMs ?? 0) / MIN) });
    const silMult = h('input', { type: 'number', id: 'rule-silence-multiple', min: '0', step: 'any', value: String(r?.silence?.intervalMultiple ?? 3) });
    const silFixed = h('input', { type: 'number', id: 'rule-silence-fixed', min: '0', step: 'any', value: String((r?.silence?.fixedMs ?? 0) / MIN) });
    const rateKey = h('input', { type: 'text', id: 'rule-rate-key', autocomplete: 'off', value: r?.rate?.key ?? '' });
    const rateWin = h('input', { type: 'number', id: 'rule-rate-window', min: '0', step: 'any', value: String((r?.rate?.windowMs ?? 15 * MIN) / MIN) });
    const rateThr = h('input', { type: 'number', id: 'rule-rate-threshold', step: 'any', value: String(r?.rate?.threshold ?? 1) });
    const rateDir = h('select', { id: 'rule-rate-direction' }, ['rise', 'fall', 'either'].map((d) => h('option', { value: d }, t(`rules.dir.${d}`))));
    rateDir.value = r?.rate?.direction ?? 'rise';
    const gwOffline = h('input', { type: 'number', id: 'rule-gw-offline', min: '0', step: 'any', value: String((r?.gateway?.offlineMs ?? 10 * MIN) / MIN) });
    const gwCounter = h('select', { id: 'rule-gw-counter' }, COUNTERS.map((c) => h('option', { value: c }, t(`rules.gwCounter.${c}`))));
    gwCounter.value = r?.gateway?.counter ?? 'rx_received_ok';
    const gwMin = h('input', { type: 'number', id: 'rule-gw-min', min: '0', step: 'any', value: r?.gateway?.min != null ? String(r.gateway.min) : '' });
    const gwMax = h('input', { type: 'number', id: 'rule-gw-max', min: '0', step: 'any', value: r?.gateway?.max != null ? String(r.gateway.max) : '' });
    const enabled = h('input', { type: 'checkbox', id: 'rule-enabled', checked: r ? r.enabled !== false : true });
    // Must be acknowledged: follows the severity (critical) until the user sets it.
    const requireAck = h('input', {
      type: 'checkbox', id: 'rule-require-ack',
      checked: r ? (r.requireAcknowledge ?? r.severity === 'critical') : severity.value === 'critical',
    });
    let requireAckSet = r !== null;
    requireAck.addEventListener('change', () => { requireAckSet = true; });
    severity.addEventListener('change', () => { if (!requireAckSet) requireAck.checked = severity.value === 'critical'; });
    // The form edits the first action of each type; any others (and fields the
    // form does not show, e.g. headers or "on") are kept as they are.
    const orig: Action[] = r?.actions ?? [];
    const idx = (type: string) => orig.findIndex((a) => a.type === type);
    const hook = orig[idx('webhook')];
    const mail = orig[idx('email')];
    const mq = orig[idx('mqtt')];
    const dl = orig[idx('downlink')];
    // SMS to given numbers and "notify the responsible contacts" (issue 20) share the message.
    const sm = orig[idx('sms')];
    const nc = orig[idx('notify_contacts')];
    const smsTo = h('input', { type: 'text', id: 'rule-sms-to', autocomplete: 'off', value: (sm?.to ?? []).join(', '), placeholder: '+45 12 34 56 78' });
    const smsMsg = h('input', { type: 'text', id: 'rule-sms-message', autocomplete: 'off', value: sm?.message ?? nc?.message ?? '', placeholder: '{{alarm.message}} ({{device.name}})' });
    const notifyVia = h('select', { id: 'rule-notify-via' },
      ['', 'sms', 'email', 'both'].map((v) => h('option', { value: v }, t(`rules.notifyVia.${v || 'none'}`))));
    notifyVia.value = nc?.via ?? '';
    const mqTopic = h('input', { type: 'text', id: 'rule-mqtt-topic', autocomplete: 'off', value: mq?.topic ?? '', placeholder: `orgs/${org}/alarms/{{device.name}}` });
    const mqPayload = h('input', { type: 'text', id: 'rule-mqtt-payload', autocomplete: 'off', value: mq?.payload ?? '' });
    const dlPort = h('input', { type: 'number', id: 'rule-downlink-fport', min: '0', max: '255', value: dl?.fPort !== undefined ? String(dl.fPort) : '' });
    const dlHex = h('input', { type: 'text', id: 'rule-downlink-hex', autocomplete: 'off', spellcheck: 'false', value: dl?.hex ?? b64hex(dl?.data), placeholder: '01ff' });
    const dlConfirmed = h('input', { type: 'checkbox', id: 'rule-downlink-confirmed', checked: dl?.confirmed === true });
    const others = orig.filter((a, i) => !['webhook', 'email', 'mqtt', 'downlink', 'sms', 'notify_contacts'].includes(a.type) || i !== idx(a.type)).length;
    const webhook = h('input', { type: 'url', id: 'rule-webhook', autocomplete: 'off', value: hook?.url ?? '', placeholder: 'https://' });
    const mailTo = h('input', { type: 'text', id: 'rule-email-to', autocomplete: 'off', value: (mail?.to ?? []).join(', ') });
    const mailServer = h('input', { type: 'text', id: 'rule-email-server', autocomplete: 'off', value: mail?.url ?? '', placeholder: 'smtp://mail.example.dk:25' });
    const mailFrom = h('input', { type: 'email', id: 'rule-email-from', autocomplete: 'off', value: mail?.from ?? '' });
    const exprBox = h('div', null,
      field(t('rules.expression'), expr, t('rules.expressionHint')), exprErr,
      field(t('rules.clearExpression'), clearExpr), clearErr,
      h('div', { class: 'row' }, field(t('rules.forMin'), forMin)));
    // field() points aria-describedby at the hint; the error box joins it.
    expr.setAttribute('aria-describedby', 'rule-expression-hint rule-expression-error');
    const silBox = h('div', { class: 'row' }, field(t('rules.silenceMultiple'), silMult), field(t('rules.silenceFixedMin'), silFixed));
    const rateBox = h('div', { class: 'row' }, field(t('rules.rateKey'), rateKey), field(t('rules.rateWindowMin'), rateWin),
      field(t('rules.rateThreshold'), rateThr), field(t('rules.rateDirection'), rateDir));
    const gwOfflineBox = h('div', { class: 'row' }, field(t('rules.gwOfflineMin'), gwOffline, t('rules.gwOfflineHint')));
    const gwPacketsBox = h('div', { class: 'row' }, field(t('rules.gwCounter'), gwCounter),
      field(t('rules.gwMin'), gwMin), field(t('rules.gwMax'), gwMax));
    const showKind = () => {
      exprBox.hidden = kind.value !== 'expression';
      silBox.hidden = kind.value !== 'silence';
      rateBox.hidden = kind.value !== 'rate_of_change';
      gwOfflineBox.hidden = kind.value !== 'gateway_offline';
      gwPacketsBox.hidden = kind.value !== 'gateway_packets';
    };
    kind.addEventListener('change', showKind);
    const dlRow = h('div', { class: 'row' }, field(t('rules.downlinkHex'), dlHex), field(t('rules.downlinkPort'), dlPort),
      h('div', { class: 'field check' }, dlConfirmed, h('label', { for: 'rule-downlink-confirmed' }, t('downlink.confirmed'))));
    const notifyField = field(t('rules.notifyContacts'), notifyVia);
    deviceOnly.push(dlRow, notifyField);
    fillTargets();
    kind.value = r?.kind && (scopeKind.value === 'gateway') === GATEWAY_KINDS.includes(r.kind) ? r.kind : kind.value;
    showKind();
    const formMsg = h('div', { 'aria-live': 'polite', id: 'rule-form-msg' });
    const clearErrors = () => {
      for (const [el, box] of [[expr, exprErr], [clearExpr, clearErr]] as const) {
        el.removeAttribute('aria-invalid');
        box.replaceChildren();
      }
      formMsg.replaceChildren();
    };
    const body = () => {
      const b: Record<string, unknown> = {
        name: name.value.trim(), severity: severity.value, kind: kind.value, enabled: enabled.checked,
        requireAcknowledge: requireAck.checked,
        remindEveryMs: Math.round(Number(remindMin.value || 0) * MIN),
      };
      const sk = scopeKind.value as ScopeKind;
      b.scope = sk === 'tag' ? { kind: sk, tag: scopeTag.value.trim() }
        : sk === 'gateway' ? { kind: sk, gatewayId: scopeGateway.value }
          : { kind: sk, id: Number(scopeTarget.value || 0) };
      if (kind.value === 'gateway_offline' || kind.value === 'gateway_packets') {
        // A device rule turned into a gateway rule leaves no wait or clear expression behind.
        b.forMs = 0;
        b.clearExpression = '';
        b.gateway = kind.value === 'gateway_offline' ? { offlineMs: Math.round(Number(gwOffline.value || 0) * MIN) }
          : { counter: gwCounter.value, min: gwMin.value === '' ? null : Number(gwMin.value),
            max: gwMax.value === '' ? null : Number(gwMax.value) };
      } else if (kind.value === 'expression') {
        b.expression = expr.value;
        b.clearExpression = clearExpr.value;
        b.forMs = Math.round(Number(forMin.value || 0) * MIN);
      } else if (kind.value === 'silence') {
        b.silence = { intervalMultiple: Number(silMult.value || 0), fixedMs: Math.round(Number(silFixed.value || 0) * MIN) };
      } else {
        b.rate = { key: rateKey.value.trim(), windowMs: Math.round(Number(rateWin.value || 0) * MIN),
          threshold: Number(rateThr.value || 0), direction: rateDir.value };
      }
      const to = mailTo.value.split(/[,;\s]+/).filter(Boolean);
      const hex = dlHex.value.replace(/[\s:]+/g, '');
      const phones = smsTo.value.split(/[,;]+/).map((x) => x.trim()).filter(Boolean);
      const gatewayRule = sk === 'gateway';
      const via = gatewayRule ? '' : notifyVia.value;
      const edited: Record<string, Action | null> = {
        webhook: webhook.value.trim() ? { ...hook, type: 'webhook', url: webhook.value.trim() } : null,
        email: to.length ? { ...mail, type: 'email', url: mailServer.value.trim(), from: mailFrom.value.trim(), to } : null,
        mqtt: mqTopic.value.trim() ? { ...mq, type: 'mqtt', topic: mqTopic.value.trim(), payload: mqPayload.value } : null,
        downlink: hex && !gatewayRule ? { ...dl, type: 'downlink', hex, confirmed: dlConfirmed.checked,
          ...(dlPort.value !== '' ? { fPort: Number(dlPort.value) } : {}) } : null,
        sms: phones.length ? { ...sm, type: 'sms', to: phones, message: smsMsg.value } : null,
        // E-mails to the contacts go through the e-mail action's server and sender.
        notify_contacts: via ? { ...nc, type: 'notify_contacts', via, message: smsMsg.value,
          ...(via !== 'sms' ? { url: mailServer.value.trim(), from: mailFrom.value.trim() } : {}) } : null,
      };
      if (dl && 'data' in (edited.downlink ?? {})) delete (edited.downlink as Action).data;
      const actions: Action[] = [];
      orig.forEach((a, i) => {
        if (a.type in edited && i === idx(a.type)) {
          const e = edited[a.type];
          if (e) actions.push(e);
        } else actions.push(a);
      });
      for (const [type, e] of Object.entries(edited)) if (e && idx(type) < 0) actions.push(e);
      b.actions = actions;
      return b;
    };
    const showError = (err: ErrBody) => {
      const e = err.error ?? {};
      const f = e.field ?? '';
      const target = f === 'expression' ? [expr, exprErr] as const
        : f === 'clear_expression' || f === 'clearExpression' ? [clearExpr, clearErr] as const : null;
      if (target && e.position) {
        const [el, box] = target;
        const p = e.position;
        el.setAttribute('aria-invalid', 'true');
        const text = t('rules.errorAt', { line: p.line, column: p.column, msg: e.message ?? '' });
        box.replaceChildren(positionMarker(el.value, p.line, p.column), h('p', { class: 'expr-msg' }, text));
        el.focus();
        el.setSelectionRange(p.offset, Math.min(el.value.length, p.offset + 1));
        return;
      }
      formMsg.replaceChildren(notice(errorText(new ApiError(0, e.code ?? '', e.message ?? '')), 'error'));
    };
    const form = h('form', {
      id: 'rule-form', class: 'card', 'aria-labelledby': 'rule-form-title', novalidate: true,
      onsubmit: async (ev: Event) => {
        ev.preventDefault();
        clearErrors();
        if (!name.value.trim()) { name.setAttribute('aria-invalid', 'true'); formMsg.replaceChildren(notice(t('rules.nameRequired'), 'error')); name.focus(); return; }
        name.removeAttribute('aria-invalid');
        const res = r ? await send(`/api/v1/rules/${r.id}`, 'PATCH', body())
          : await send(`/api/v1/organizations/${org}/rules`, 'POST', body());
        if (res.ok) {
          const warn = res.rule.warnings ?? [];
          await reload(`${t(r ? 'rules.saved' : 'rules.created')}${warn.length ? ` ${t('rules.warnings')}: ${warn.join('; ')}` : ''}`);
          return;
        }
        if (res.status !== 401) showError(res.err);
      },
    },
    h('h2', { id: 'rule-form-title' }, r ? `${t('rules.editTitle')}: ${r.name}` : t('rules.newTitle')),
    h('div', { class: 'row' }, field(t('form.name'), name), field(t('alarms.severity'), severity),
      h('div', { class: 'field check' }, enabled, h('label', { for: 'rule-enabled' }, t('rules.enabled'))),
      h('div', { class: 'field check' }, requireAck, h('label', { for: 'rule-require-ack' }, t('rules.requireAck')))),
    h('div', { class: 'row' }, field(t('rules.scope'), scopeKind), targetField, tagField, gatewayField),
    h('div', { class: 'row' }, field(t('rules.kind'), kind)), exprBox, silBox, rateBox, gwOfflineBox, gwPacketsBox,
    h('div', { class: 'row' }, field(t('rules.remindMin'), remindMin)),
    h('fieldset', null, h('legend', null, t('rules.actions')),
      field(t('rules.webhook'), webhook),
      h('div', { class: 'row' }, field(t('rules.emailTo'), mailTo), field(t('rules.emailServer'), mailServer),
        field(t('rules.emailFrom'), mailFrom)),
      h('div', { class: 'row' }, field(t('rules.mqttTopic'), mqTopic, t('rules.mqttTopicHint', { prefix: `orgs/${org}/` })), field(t('rules.mqttPayload'), mqPayload)),
      dlRow, h('div', { class: 'row' }, field(t('rules.smsTo'), smsTo), notifyField, field(t('rules.smsMessage'), smsMsg)),
      others ? h('p', { class: 'hint' }, t('rules.otherActions', { n: others })) : null),
    formMsg,
    h('div', { class: 'actions' },
      h('button', { type: 'submit', id: 'rule-save' }, t('form.save')),
      h('button', { type: 'button', class: 'secondary', onclick: () => formBox.replaceChildren() }, t('form.cancel'))));
    return form;
  }

  function dryRunPanel(r: Rule): HTMLElement {
    const dev = h('select', { id: 'dry-device' }, od.rows.map((x) => h('option', { value: String(x.d.id) }, x.d.name)));
    if (r.scope.kind === 'device' && r.scope.id) dev.value = String(r.scope.id);
    else if (r.scope.kind === 'application') {
      const first = od.rows.find((x) => x.d.applicationId === r.scope.id && x.lastSeen !== null)
        ?? od.rows.find((x) => x.d.applicationId === r.scope.id);
      if (first) dev.value = String(first.d.id);
    }
    const range = h('select', { id: 'dry-range' }, ['24h', '7d', '30d'].map((k) => h('option', { value: k }, t(`device.range.${k}`))));
    range.value = '7d';
    const out = h('div', { id: 'dry-result', 'aria-live': 'polite' });
    const run = async () => {
      const ms = { '24h': 86_400_000, '7d': 7 * 86_400_000, '30d': 30 * 86_400_000 }[range.value] ?? 7 * 86_400_000;
      const to = new Date();
      const from = new Date(to.getTime() - ms);
      out.replaceChildren(h('p', { role: 'status' }, t('loading')));
      try {
        const d = await request<DryRun>(`/api/v1/rules/${r.id}/dry-run`, {
          method: 'POST', body: { deviceId: Number(dev.value), from: from.toISOString(), to: to.toISOString() },
        });
        const span = Math.max(1, Date.parse(d.to) - Date.parse(d.from));
        const marks = h('div', { class: 'timeline', role: 'img', 'aria-label': t('rules.dryTimeline', { n: d.raises }) });
        const mark = (ts: string, cls: string) => {
          const el = h('span', { class: `tl-mark ${cls}`, title: fmtDate(ts) });
          el.style.left = `${Math.min(100, Math.max(0, ((Date.parse(ts) - Date.parse(d.from)) / span) * 100))}%`;
          return el;
        };
        marks.append(...d.raisedAt.map((x) => mark(x, 'raise')), ...d.clearedAt.map((x) => mark(x, 'clear')));
        const events = [...d.raisedAt.map((x) => [x, t('rules.raisedEv')]), ...d.clearedAt.map((x) => [x, t('rules.clearedEv')])]
          .sort((a, b) => Date.parse(a[0]) - Date.parse(b[0]));
        out.replaceChildren(
          h('p', { id: 'dry-summary', 'data-raises': String(d.raises) },
            t('rules.drySummary', { n: d.raises, c: d.clears, r: d.readingsUsed }),
            d.activeAtEnd ? ` ${t('rules.dryActive')}` : ''),
          h('div', { class: 'tl-wrap' }, h('span', null, fmtDate(d.from)), marks, h('span', null, fmtDate(d.to))),
          events.length ? table(t('rules.dryEvents'), [t('device.time'), t('rules.event')],
            events.slice(0, 200).map(([ts, what]) => [fmtDate(ts), what])) : h('p', null, t('rules.dryNone')));
      } catch (e) {
        out.replaceChildren(notice(e instanceof ApiError ? errorText(e) : String(e), 'error'));
      }
    };
    return h('section', { class: 'card', id: 'dry-run', 'aria-labelledby': 'dry-title' },
      h('h2', { id: 'dry-title' }, `${t('rules.dryRun')}: ${r.name}`),
      h('p', { class: 'hint' }, t('rules.dryHint')),
      h('form', { class: 'inline', onsubmit: (e: Event) => { e.preventDefault(); void run(); } },
        field(t('alarms.device'), dev), field(t('device.range'), range),
        h('button', { type: 'submit', id: 'dry-run-go' }, t('rules.dryRunGo'))),
      out);
  }

  append(root, [msg,
    editor ? h('div', { class: 'actions' }, h('button', {
      type: 'button', id: 'rule-new', 'data-edit': '',
      onclick: () => { dryBox.replaceChildren(); formBox.replaceChildren(ruleForm(null)); formBox.querySelector('input')?.focus(); },
    }, t('rules.new'))) : null,
    formBox, dryBox,
    section(t('rules.title'), list.items.length
      ? table(t('rules.title'), [t('form.name'), t('rules.scope'), t('rules.condition'), t('alarms.severity'),
        t('rules.enabled'), ...(editor ? [t('rules.actionsCol')] : [])], rows, 'rules')
      : h('p', null, t('rules.none')))]);
}
