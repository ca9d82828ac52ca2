// Device page: latest values, health, a uPlot chart of any key over a chosen
// range (raw points for short ranges, hourly/daily buckets for long ones),
// raw messages with decode status, alarms.
import type uPlot from 'uplot';
import { h, field } from '../dom';
import { api, optional, request, Page, Alarm, Reading, Device, DeviceModel, Message } from '../api';
import { KeyNames, isTechnicalKey, keyLabel, modelKeyNames } from '../keys';
import { decoderPicker } from '../decoderPicker';
import { t, tEnum, fmtValue, fmtDate, fmtAgo, fmtNum } from '../i18n';
import { orgData, canEdit, state, computeStatus, onLive } from '../state';
import { title, section, table, badge, notice, unavailable, errorText, loading, secretOnce } from '../ui';
import { navigate } from '../router';
import { chartThresholds, gapThresholdS } from '../chart';
import { timePlot, followWidth } from '../plot';
import { orgRules } from '../health';
import { contactsPanel } from '../contacts';
import { coapPanel } from '../coapPanel';
import { lwm2mPanel } from '../lwm2mPanel';

interface RangeDef { key: string; ms: number; bucket: string | null }
const RANGES: RangeDef[] = [
  { key: '1h', ms: 3_600_000, bucket: null },
  { key: '24h', ms: 86_400_000, bucket: null },
  { key: '7d', ms: 7 * 86_400_000, bucket: '1h' },
  { key: '30d', ms: 30 * 86_400_000, bucket: '1h' },
  { key: '365d', ms: 365 * 86_400_000, bucket: '1d' },
];

function health(d: Device, latest: Reading[]): HTMLElement {
  const find = (re: RegExp) => latest.find((r) => re.test(r.key));
  let lastSeen: number | null = null;
  for (const r of latest) { const x = Date.parse(r.ts); if (lastSeen === null || x > lastSeen) lastSeen = x; }
  const st = computeStatus(d, lastSeen, state.data?.byId.get(d.id)?.status === 'alarm', Date.now());
  const show = (r: Reading | undefined) => (r ? `${fmtValue(r.value)}${r.unit ? ` ${r.unit}` : ''}` : '–');
  return h('dl', { class: 'health' },
    h('dt', null, t('devices.status')), h('dd', { id: 'device-status' }, badge(st)),
    h('dt', null, t('devices.lastSeen')),
    h('dd', { id: 'device-last-seen' }, lastSeen ? `${fmtAgo(lastSeen)} (${fmtDate(lastSeen)})` : '–'),
    h('dt', null, t('device.expected')), h('dd', null, d.expectedIntervalS ? `${fmtNum(d.expectedIntervalS)} s` : '–'),
    h('dt', null, t('device.battery')), h('dd', null, show(find(/^bat/i))),
    h('dt', null, t('device.rssi')), h('dd', null, show(find(/rssi/i))),
    h('dt', null, t('device.snr')), h('dd', null, show(find(/snr/i))),
    h('dt', null, t('devices.transport')), h('dd', null, tEnum('transport', d.transport) + (d.devEui ? ` · ${d.devEui}` : '')),
    h('dt', null, t('device.location')),
    h('dd', null, d.location ? `${fmtNum(d.location.lat, 5)}, ${fmtNum(d.location.lon, 5)}` : '–'),
    h('dt', null, t('device.tags')), h('dd', null, d.tags.join(', ') || '–'),
    h('dt', null, t('decoder.label')),
    h('dd', null, decoderPicker(d.orgId, `/api/v1/devices/${d.id}`, t('decoder.label'), t('decoder.fromApp'), canEdit())));
}

function chartPanel(d: Device, keys: string[], latest: Reading[], names: KeyNames): { el: HTMLElement; destroy: () => void } {
  const id = d.id;
  let plot: uPlot | null = null;
  const rules = orgRules(d.orgId);
  const keySel = h('select', { id: 'chart-key' }, keys.map((k) => h('option', { value: k }, keyLabel(k, names))));
  const preferred = keys.find((k) => /temp/i.test(k)) ?? keys.find((k) => !/rssi|snr|bat/i.test(k)) ?? keys[0];
  keySel.value = preferred;
  const rangeSel = h('select', { id: 'chart-range' },
    RANGES.map((r) => h('option', { value: r.key }, t(`device.range.${r.key}`))));
  rangeSel.value = '24h';
  const info = h('p', { class: 'chart-info', id: 'chart-info', 'aria-live': 'polite' });
  const box = h('div', { class: 'chart', id: 'chart', role: 'img', 'aria-label': t('device.chart') });
  const load = async () => {
    const r = RANGES.find((x) => x.key === rangeSel.value) ?? RANGES[1];
    const key = keySel.value;
    const unit = latest.find((x) => x.key === key)?.unit ?? '';
    const iso = (d: Date) => d.toISOString().replace(/\.\d{3}Z$/, 'Z');
    const toD = new Date();
    const to = iso(toD);
    const from = iso(new Date(toD.getTime() - r.ms));
    info.textContent = t('loading');
    let xs: number[] = [];
    let series: Array<Array<number | null>> = [];
    let labels: string[] = [];
    let maxGapS = 0;
    try {
      if (r.bucket) {
        let page: Page<{ ts: string; avg: number | null; min: number | null; max: number | null }>;
        let bucketS = r.bucket === '1d' ? 86_400 : 3_600;
        try {
          page = await api.buckets(id, { key, from: from, to: to, bucket: r.bucket, agg: 'avg,min,max,count', limit: 10000 });
        } catch (e) {
          if (r.bucket === '1h') throw e;
          page = await api.buckets(id, { key, from: from, to: to, bucket: '1h', agg: 'avg,min,max,count', limit: 10000 });
          bucketS = 3_600;
        }
        const items = [...page.items].sort((a, b) => Date.parse(a.ts) - Date.parse(b.ts));
        xs = items.map((b) => Date.parse(b.ts) / 1000);
        series = [items.map((b) => b.avg), items.map((b) => b.min), items.map((b) => b.max)];
        labels = [t('chart.avg'), t('chart.min'), t('chart.max')];
        maxGapS = 1.5 * bucketS;  // a missing bucket breaks the line
        info.textContent = `${t('device.aggregated')} · ${t('device.points', { n: xs.length })}`;
      } else {
        const page = await api.readings(id, { key, from: from, to: to, limit: 10000 });
        const items = page.items.filter((x) => typeof x.value === 'number')
          .sort((a, b) => Date.parse(a.ts) - Date.parse(b.ts));
        xs = items.map((x) => Date.parse(x.ts) / 1000);
        series = [items.map((x) => x.value as number)];
        labels = [keyLabel(key, names)];
        maxGapS = gapThresholdS(xs, d.expectedIntervalS);
        info.textContent = `${t('device.raw')} · ${t('device.points', { n: xs.length })}`;
      }
    } catch (e) {
      info.textContent = errorText(e);
      return;
    }
    box.dataset.points = String(xs.length);
    plot?.destroy();
    plot = null;
    box.replaceChildren();
    if (!xs.length) { info.textContent = t('device.noData'); return; }
    plot = timePlot(box, {
      xs, series, labels, maxGapS, unit, emphasiseFirst: true,
      fromS: Date.parse(from) / 1000, toS: toD.getTime() / 1000,
      yLabel: unit ? `${keyLabel(key, names)} (${unit})` : keyLabel(key, names),
      lines: chartThresholds(await rules, d, key),
    });
  };
  keySel.addEventListener('change', () => void load());
  rangeSel.addEventListener('change', () => void load());
  const unfollow = followWidth(box, () => plot);
  void load();
  const el = h('div', null, h('div', { class: 'row' }, field(t('device.key'), keySel), field(t('device.range'), rangeSel)),
    info, box);
  return { el, destroy: () => { unfollow(); plot?.destroy(); } };
}

interface Downlink {
  id: number; createdAt: string; fPort: number; data: string; object?: unknown; confirmed: boolean; status: string; error: string;
}

// A message's decode error, the decoder's errors (red) and warnings (amber).
const MESSAGES_PER_PAGE = 20;

// The device's raw messages, newest first, a page at a time, folded under a summary with their
// count; unfolded when the newest page holds a decode error (something to look at). "Older"
// pages back in time (the API's `to`: just before the page's oldest message); "Newer" returns.
function messagesPanel(id: number): HTMLElement {
  const summary = h('summary', null, t('device.messages'));
  const body = h('div', null, loading());
  const box = h('details', { id: 'device-messages' }, summary, body);
  const cursors: Array<string | undefined> = [undefined];  // `to` of each page shown so far
  let all = 0;  // messages in total (the first page's count)
  const load = async () => {
    const to = cursors[cursors.length - 1];
    let m: Page<Message>;
    try { m = await api.messages(id, MESSAGES_PER_PAGE, to); } catch (e) {
      body.replaceChildren(notice(errorText(e), 'error'));
      return;
    }
    if (cursors.length === 1) {
      all = m.total;
      summary.textContent = t('device.messagesSummary', { n: all });
      if (m.items.some((x) => x.decodeStatus === 'error')) box.open = true;
    }
    if (!m.items.length) { body.replaceChildren(h('p', null, t('device.noMessages'))); return; }
    const from = all - m.total + 1;
    const last = from + m.items.length - 1;
    const oldest = Date.parse(m.items[m.items.length - 1].receivedAt);
    const pager = h('div', { class: 'pager' },
      h('button', {
        type: 'button', class: 'secondary small', disabled: cursors.length === 1,
        onclick: () => { cursors.pop(); void load(); },
      }, t('device.newer')),
      h('span', { class: 'pager-pos' }, t('device.messagesRange', { from, to: last, n: all })),
      h('button', {
        type: 'button', class: 'secondary small', disabled: last >= all,
        onclick: () => { cursors.push(new Date(oldest - 1).toISOString()); void load(); },
      }, t('device.older')));
    body.replaceChildren(table(t('device.messages'),
      [t('device.received'), t('devices.transport'), t('device.payload'), t('device.decode'), t('device.decodeError')],
      m.items.map((x) => [fmtDate(x.receivedAt), tEnum('transport', x.transport),
        h('code', { class: 'payload' }, x.payload.length > 200 ? `${x.payload.slice(0, 200)}…` : x.payload),
        h('span', { class: `dec dec-${x.decodeStatus}` }, tEnum('decodeStatus', x.decodeStatus)), decodeNotes(x)]), 'messages'),
    pager);
  };
  void load();
  return box;
}

function decodeNotes(x: Message): HTMLElement {
  return h('div', { class: 'decode-notes' }, x.decodeError ?? '',
    (x.decodeErrors ?? []).filter((e) => e !== x.decodeError).map((e) => h('div', { class: 'note-error' }, e)),
    (x.decodeWarnings ?? []).map((w) => h('div', { class: 'note-warn' }, `${t('device.decodeWarning')}: ${w}`)));
}

function b64ToHex(b64: string): string {
  try {
    return Array.from(atob(b64), (c) => c.charCodeAt(0).toString(16).padStart(2, '0')).join(' ');
  } catch { return b64; }
}

// Downlink history and, for editors of LoRaWAN / MQTT devices, a send form.
function downlinkPanel(d: Device): HTMLElement {
  const box = h('div', { id: 'downlinks' });
  const history = h('div', { id: 'downlink-history' }, loading());
  const load = async () => {
    try {
      const res = await optional<{ items: Downlink[] }>(`/api/v1/devices/${d.id}/downlink`);
      if (res === null) { history.replaceChildren(unavailable()); return; }
      history.dataset.count = String(res.items.length);
      history.replaceChildren(res.items.length ? table(t('device.downlinks'),
        [t('device.time'), 'fPort', t('downlink.data'), t('downlink.objectCol'), t('downlink.confirmed'), t('devices.status'), t('downlink.error')],
        res.items.map((x) => [fmtDate(x.createdAt), String(x.fPort), h('code', { title: x.data }, b64ToHex(x.data)),
          x.object == null ? '' : h('code', null, JSON.stringify(x.object)),
          x.confirmed ? t('rules.on') : t('rules.off'),
          h('span', { class: `dl dl-${x.status}` }, t(`downlink.status.${x.status}`)), x.error || '']), 'downlinks')
        : h('p', null, t('downlink.none')));
    } catch (e) { history.replaceChildren(notice(errorText(e), 'error')); }
  };
  // An HTTP device's downlinks wait for its next CoAP uplink, whose answer carries one.
  const viaCoap = d.transport === 'http';
  if (canEdit()) {
    const fport = h('input', {
      type: 'number', id: 'downlink-fport', min: d.transport === 'lorawan' ? '1' : '0',
      max: d.transport === 'lorawan' ? '223' : '255', value: d.transport === 'lorawan' ? '1' : '0', required: true,
    });
    const payload = h('input', { type: 'text', id: 'downlink-payload', autocomplete: 'off', placeholder: '01 2a ff', spellcheck: 'false' });
    const encoding = h('select', { id: 'downlink-encoding' },
      h('option', { value: 'hex' }, t('downlink.hex')), h('option', { value: 'base64' }, 'Base64'),
      h('option', { value: 'object' }, t('downlink.object')));
    const confirmed = h('input', { type: 'checkbox', id: 'downlink-confirmed' });
    const msg = h('div', { 'aria-live': 'polite', id: 'downlink-msg' });
    const why = viaCoap ? h('p', { class: 'hint', id: 'downlink-why' }, t('downlink.httpOnly')) : null;
    const fs = h('fieldset', { 'aria-describedby': why ? 'downlink-why' : null },
      h('legend', null, t('downlink.send')),
      h('div', { class: 'row' }, field('fPort', fport), field(t('downlink.payload'), payload), field(t('downlink.encoding'), encoding),
        h('div', { class: 'field check' }, confirmed, h('label', { for: 'downlink-confirmed' }, t('downlink.confirmed')))),
      h('button', { type: 'submit', id: 'downlink-send' }, t('downlink.sendButton')));
    const form = h('form', {
      id: 'downlink-form', 'data-edit': '',
      onsubmit: async (e: Event) => {
        e.preventDefault();
        const raw = payload.value.trim();
        const hex = raw.replace(/[\s:]+/g, '');
        const body: Record<string, unknown> = { fPort: Number(fport.value), confirmed: confirmed.checked };
        if (encoding.value === 'hex') {
          if (!/^([0-9a-fA-F]{2})+$/.test(hex)) {
            payload.setAttribute('aria-invalid', 'true');
            msg.replaceChildren(notice(t('downlink.badHex'), 'error'));
            payload.focus();
            return;
          }
          body.hex = hex;
        } else if (encoding.value === 'object') {
          let object: unknown = null;
          try { object = JSON.parse(raw); } catch { object = null; }
          if (object === null || typeof object !== 'object' || Array.isArray(object)) {
            payload.setAttribute('aria-invalid', 'true');
            msg.replaceChildren(notice(t('downlink.badObject'), 'error'));
            payload.focus();
            return;
          }
          body.object = object;
        } else body.data = raw;
        payload.removeAttribute('aria-invalid');
        try {
          await request(`/api/v1/devices/${d.id}/downlink`, { method: 'POST', body });
          msg.replaceChildren(notice(t('downlink.queued'), 'ok'));
          await load();
          // The broker's answer arrives after a moment: show the final status.
          window.setTimeout(() => { if (box.isConnected) void load(); }, 1500);
        } catch (err) { msg.replaceChildren(notice(errorText(err), 'error')); }
      },
    }, why, fs, msg);
    box.append(form);
  } else if (viaCoap) {
    box.append(h('p', { class: 'hint' }, t('downlink.httpOnly')));
  }
  box.append(h('h3', null, t('downlink.history')), history);
  void load();
  return box;
}

// "New key" (editors): an HTTP device's ingest key or an MQTT device's broker password is replaced;
// the old one stops working at once, the new one is shown here once with a copy button.
function newKeyButton(d: Device, out: HTMLElement): HTMLElement | null {
  if (d.transport !== 'http' && d.transport !== 'mqtt') return null;
  const mqtt = d.transport === 'mqtt';
  return h('button', {
    type: 'button', class: 'secondary', id: 'device-new-key', 'data-edit': '',
    onclick: async () => {
      if (!confirm(t(mqtt ? 'device.confirmNewPassword' : 'device.confirmNewKey', { name: d.name }))) return;
      try {
        const r = await api.rotateDeviceKey(d.id);
        out.replaceChildren(r.mqtt
          ? secretOnce(t('device.newPasswordOnce'), r.mqtt.password, 'device-new-secret',
            [[t('device.mqttUser'), r.mqtt.username], [t('device.mqttBroker'), `${r.mqtt.host}:${r.mqtt.port}`]])
          : secretOnce(t('device.newKeyOnce'), r.apiKey ?? '', 'device-new-secret'));
        out.scrollIntoView({ block: 'nearest' });
      } catch (e) { out.replaceChildren(notice(errorText(e), 'error')); }
    },
  }, t(mqtt ? 'device.newPassword' : 'device.newKey'));
}

export async function deviceScreen(root: HTMLElement, p: Record<string, string>): Promise<() => void> {
  const id = Number(p.id);
  const [d, latest, keys] = await Promise.all([api.device(id), api.latest(id), api.keys(id)]);
  // The device model's names for its keys (keys.ts), when it has a model the caller may read.
  const model = d.deviceModelId
    ? await optional<DeviceModel>(`/api/v1/device-models/${d.deviceModelId}`).catch(() => null) : null;
  const names = modelKeyNames(model?.doc);
  if (!state.data) void orgData();
  const secretBox = h('div', { id: 'device-secret' });
  const actions = canEdit() ? [
    h('a', { class: 'button', href: `/devices/${id}/edit`, 'data-edit': '' }, t('device.edit')),
    newKeyButton(d, secretBox),
    h('button', {
      type: 'button', class: 'danger', 'data-edit': '',
      onclick: async () => {
        if (!confirm(t('device.confirmDelete', { name: d.name }))) return;
        await api.deleteDevice(id);
        state.data = null;
        navigate('/devices');
      },
    }, t('device.delete'))] : [];
  root.append(title(d.name, h('div', { class: 'actions' }, actions)), secretBox);
  const latestItems = latest.items;
  const valueText = (v: unknown, unit?: string) => `${fmtValue(v)}${unit ? ` ${unit}` : ''}`;
  const latestTable = (items: Reading[], name: string) =>
    table(t('device.latest'), [t('device.key'), t('device.valueCol'), t('device.time'), t('device.quality')],
      items.map((r) => [h('span', { title: r.key, 'data-key': r.key }, keyLabel(r.key, names)),
        h('strong', { 'data-live-value': r.key }, valueText(r.value, r.unit)),
        h('span', { 'data-live-ts': r.key, 'data-ts': r.ts }, fmtDate(r.ts)), tEnum('quality', r.quality)]), name);
  // The radio's bookkeeping (LoRaWAN counters, signal) folded under "technical details".
  const measured = latestItems.filter((r) => !isTechnicalKey(r.key));
  const technical = latestItems.filter((r) => isTechnicalKey(r.key));
  const latestSec = section(t('device.latest'), latestItems.length
    ? h('div', null, measured.length ? latestTable(measured, 'latest') : null,
      technical.length ? h('details', { id: 'latest-technical' }, h('summary', null, t('device.technical')),
        latestTable(technical, 'latest-technical-table')) : null)
    : h('p', null, t('device.noKeys')));
  // Live updates: the organisation's stream carries every committed reading. Each time the
  // stream (re)opens the latest values are read again: readings stored while it was down were
  // never pushed.
  const show = (x: { key?: string; ts?: string; value?: unknown; unit?: string }) => {
    if (!x.key || !x.ts) return;
    const sel = (attr: string) => latestSec.querySelector<HTMLElement>(`[${attr}="${CSS.escape(x.key ?? '')}"]`);
    const val = sel('data-live-value');
    const ts = sel('data-live-ts');
    if (!val || !ts || Date.parse(x.ts) < Date.parse(ts.dataset.ts ?? '')) return;
    val.textContent = valueText(x.value, x.unit);
    ts.dataset.ts = x.ts;
    ts.textContent = fmtDate(x.ts);
    const seen = document.getElementById('device-last-seen');
    if (seen) seen.textContent = `${fmtAgo(Date.parse(x.ts))} (${fmtDate(x.ts)})`;
  };
  const offLive = onLive((ev) => {
    if (ev.type === 'open') {
      void api.latest(id).then((fresh) => fresh.items.forEach(show), () => {});
      return;
    }
    const x = ev.data as { deviceId?: number; key?: string; ts?: string; value?: unknown; unit?: string };
    if (ev.type === 'reading' && x.deviceId === id) show(x);
  });
  const chart = keys.items.length ? chartPanel(d, keys.items, latest.items, names) : null;
  const alarms = h('div', null, loading());
  // Status, open alarms and the chart first; the raw messages after them, folded and paged.
  root.append(
    h('div', { class: 'grid2' }, latestSec, section(t('device.health'), health(d, latestItems))),
    section(t('device.alarms'), alarms),
    section(t('contacts.title'), contactsPanel(`/api/v1/devices/${id}/contacts/effective`, t('contacts.title'))),
    section(t('device.chart'), chart ? chart.el : h('p', null, t('device.noKeys'))),
    section(t('device.messages'), messagesPanel(id)),
    section(t('device.downlinks'), downlinkPanel(d)));
  if (d.transport === 'http') {  // CoAP / LwM2M devices are HTTP-transport devices
    if (canEdit()) root.append(section(t('coap.title'), coapPanel(id, d.name)));
    root.append(section(t('lwm2m.title'), lwm2mPanel(id)));
  }
  (state.features.get('alarms') === false ? Promise.resolve(null)
    : optional<Page<Alarm>>(`/api/v1/organizations/${d.orgId}/alarms?deviceId=${id}&limit=50`))
    .then((a) => {
      if (a === null) { state.features.set('alarms', false); alarms.replaceChildren(unavailable()); return; }
      const mine = a.items.filter((x) => !x.deviceId || x.deviceId === id);
      alarms.replaceChildren(mine.length ? table(t('device.alarms'), [t('alarms.raised'), t('alarms.severity'), t('alarms.message'), t('devices.status')],
        mine.map((x) => [fmtDate(x.raisedAt ?? x.ts), tEnum('severity', x.severity), x.message ?? x.ruleName ?? '', tEnum('alarmState', x.state)]))
        : h('p', null, t('alarms.none')));
    }).catch((e) => alarms.replaceChildren(notice(errorText(e), 'error')));
  return () => { offLive(); chart?.destroy(); };
}
