// One LoRaWAN gateway (issue 20): its state and when it took it, its availability over the last
// 7 or 30 days (a bar of online / offline / unknown stretches, the share online and the outages),
// the packets it received and sent per hour or day (uPlot; a missing hour or day breaks the
// line), and the organisation's devices it hears with their last RSSI and SNR.
import type uPlot from 'uplot';
import { h, field } from '../dom';
import { api, Gateway, GatewayStateChange } from '../api';
import { t, fmtAgo, fmtDate, fmtNum } from '../i18n';
import { state } from '../state';
import { title, section, table, notice, errorText, loading } from '../ui';
import { timePlot, followWidth } from '../plot';
import { gatewayBadge, located } from '../gatewayUi';
import { Segment, onlineShare, outages, stateSegments } from '../availability';

const DAY_MS = 86_400_000;
const RANGES = [{ key: '7d', days: 7, bucket: 'hour' as const }, { key: '30d', days: 30, bucket: 'day' as const }];
// Changes are read from this long before the period, for the state at its start.
const LOOKBACK_MS = 60 * DAY_MS;
const MAX_OUTAGES = 20;

const iso = (ms: number) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');

export function fmtDuration(ms: number): string {
  const min = Math.max(0, Math.round(ms / 60_000));
  if (min < 60) return t('gw.durM', { m: min });
  const hours = Math.floor(min / 60);
  if (hours < 24) return t('gw.durHM', { h: hours, m: min % 60 });
  return t('gw.durDH', { d: Math.floor(hours / 24), h: hours % 24 });
}

function healthList(g: Gateway): HTMLElement {
  const when = (s: string | null) => (s ? `${fmtAgo(Date.parse(s))} (${fmtDate(s)})` : '–');
  return h('dl', { class: 'health' },
    h('dt', null, t('gw.state')), h('dd', { id: 'gw-state' }, gatewayBadge(g)),
    h('dt', null, t('gw.since')), h('dd', null, g.stateSince ? fmtDate(g.stateSince) : '–'),
    h('dt', null, t('gw.lastSeen')), h('dd', { id: 'gw-last-seen' }, when(g.lastSeen)),
    h('dt', null, t('gw.firstSeen')), h('dd', null, when(g.firstSeen)),
    h('dt', null, t('gw.uplinks')), h('dd', null, fmtNum(g.uplinks, 0)),
    h('dt', null, t('gw.location')),
    h('dd', null, located(g)
      ? h('a', { href: '/map?gateways=1' }, `${fmtNum(g.location!.latitude, 5)}, ${fmtNum(g.location!.longitude, 5)}`)
      : '–'));
}

// The period as one bar: a stretch per state, as wide as its share of the period.
function availabilityBar(segments: Segment[], fromMs: number, toMs: number): HTMLElement {
  const span = toMs - fromMs;
  return h('div', { class: 'avail-bar', id: 'gw-avail-bar', 'aria-hidden': 'true' },
    segments.map((s) => {
      const cls = s.online === null ? 'unknown' : s.online ? 'online' : 'offline';
      const el = h('span', {
        class: `avail-${cls}`, 'data-state': cls,
        title: `${t(`gw.state.${cls}`)}: ${fmtDate(s.fromMs)} – ${fmtDate(s.toMs)}`,
      });
      el.style.width = `${(100 * (s.toMs - s.fromMs)) / span}%`;  // CSSOM: allowed by the CSP
      return el;
    }));
}

function availabilityPanel(changes: GatewayStateChange[], fromMs: number, toMs: number): HTMLElement {
  const segments = stateSegments(changes, fromMs, toMs);
  const share = onlineShare(segments);
  const down = outages(segments);
  const summary = share === null ? t('gw.availUnknown')
    : t('gw.availSummary', { pct: fmtNum(share * 100, 1), n: down.length });
  return h('div', { id: 'gw-availability', 'data-share': share === null ? '' : String(share), 'data-outages': String(down.length) },
    h('p', { id: 'gw-avail-summary' }, summary),
    availabilityBar(segments, fromMs, toMs),
    h('p', { class: 'avail-axis', 'aria-hidden': 'true' }, h('span', null, fmtDate(fromMs)), h('span', null, fmtDate(toMs))),
    down.length ? table(t('gw.outages'), [t('gw.outageFrom'), t('gw.outageTo'), t('gw.outageDuration')],
      down.slice(0, MAX_OUTAGES).map((s) => [fmtDate(s.fromMs),
        s.toMs >= toMs ? t('gw.outageOngoing') : fmtDate(s.toMs), fmtDuration(s.toMs - s.fromMs)]), 'outages') : null);
}

function packetsPanel(gatewayId: string): { el: HTMLElement; load: (fromMs: number, toMs: number, bucket: 'hour' | 'day') => Promise<void>; destroy: () => void } {
  let plot: uPlot | null = null;
  const info = h('p', { class: 'chart-info', id: 'gw-packets-info', 'aria-live': 'polite' });
  const box = h('div', { class: 'chart', id: 'gw-packets', role: 'img', 'aria-label': t('gw.packets') });
  const unfollow = followWidth(box, () => plot);
  const load = async (fromMs: number, toMs: number, bucket: 'hour' | 'day') => {
    info.textContent = t('loading');
    let items;
    try {
      items = await api.gatewayStats(state.orgId, gatewayId, iso(fromMs), iso(toMs), bucket);
    } catch (e) {
      info.textContent = errorText(e);
      return;
    }
    plot?.destroy();
    plot = null;
    box.replaceChildren();
    box.dataset.points = String(items.length);
    if (!items.length) { info.textContent = t('gw.noStats'); return; }
    const bucketS = bucket === 'day' ? 86_400 : 3_600;
    info.textContent = t(bucket === 'day' ? 'gw.perDay' : 'gw.perHour');
    plot = timePlot(box, {
      xs: items.map((b) => Date.parse(b.start) / 1000),
      series: [items.map((b) => b.rxPacketsReceivedOk), items.map((b) => b.rxPacketsReceived), items.map((b) => b.txPacketsEmitted)],
      labels: [t('gw.rxOk'), t('gw.rx'), t('gw.tx')],
      maxGapS: 1.5 * bucketS, fromS: fromMs / 1000, toS: toMs / 1000,
      unit: '', yLabel: t('gw.packetsAxis'), lines: [],
    });
  };
  return { el: h('div', null, info, box), load, destroy: () => { unfollow(); plot?.destroy(); } };
}

async function heardPanel(gatewayId: string): Promise<HTMLElement> {
  try {
    const items = await api.gatewayDevices(state.orgId, gatewayId);
    if (!items.length) return h('p', { id: 'gw-heard' }, t('gw.heardNone'));
    const db = (v: number | null, unit: string) => (v === null ? '–' : `${fmtNum(v, 1)} ${unit}`);
    return h('div', { id: 'gw-heard', 'data-count': String(items.length) },
      table(t('gw.heard'), [t('devices.name'), 'DevEUI', 'RSSI', 'SNR', t('gw.lastSeen'), t('gw.uplinks')],
        items.map((d) => [h('a', { href: `/devices/${d.deviceId}` }, d.name), h('code', null, d.devEui),
          db(d.rssi, 'dBm'), db(d.snr, 'dB'), h('span', { title: fmtDate(d.lastSeen) }, fmtAgo(Date.parse(d.lastSeen))),
          fmtNum(d.uplinks, 0)]), 'cards heard'));
  } catch (e) {
    return notice(errorText(e), 'error');
  }
}

export async function gatewayScreen(root: HTMLElement, p: Record<string, string>): Promise<() => void> {
  const id = p.id;
  const now = Date.now();
  const g = await api.gateway(state.orgId, id, iso(now - 30 * DAY_MS - LOOKBACK_MS), iso(now));
  root.append(title(t('gw.one', { id: g.gatewayId }), gatewayBadge(g)), healthList(g));
  // The current state counts from when it was taken, even when that was before the changes read.
  const changes = g.online !== null && g.stateSince ? [{ time: g.stateSince, online: g.online }, ...g.history] : g.history;

  const rangeSel = h('select', { id: 'gw-range' }, RANGES.map((r) => h('option', { value: r.key }, t(`device.range.${r.key}`))));
  rangeSel.value = '7d';
  const availBox = h('div', null, loading());
  const packets = packetsPanel(g.gatewayId);
  const show = () => {
    const r = RANGES.find((x) => x.key === rangeSel.value) ?? RANGES[0];
    const toMs = Date.now();
    const fromMs = toMs - r.days * DAY_MS;
    availBox.replaceChildren(availabilityPanel(changes, fromMs, toMs));
    void packets.load(fromMs, toMs, r.bucket);
  };
  rangeSel.addEventListener('change', show);
  root.append(h('div', { class: 'row' }, field(t('device.range'), rangeSel)),
    section(t('gw.availability'), availBox),
    section(t('gw.packets'), packets.el),
    section(t('gw.heard'), await heardPanel(g.gatewayId)));
  show();
  return () => packets.destroy();
}
