// The widgets of a saved dashboard (issue 21 §4), each drawn into its own card from what the other
// screens read: a time series of several devices × keys (the device's buckets over 24 h / 7 d /
// 30 d, drawn by plot.ts as the comparison's chart is), a latest-value tile, a gauge and a table of
// devices × keys, each value coloured against the limits of the rules that watch the device
// (health.ts levelOf, as the comparison's cells), the organisation's open alarms, and a map of an
// application's devices (dashboardMap.ts). Each widget resolves when drawn; `data-*` attributes
// expose what it drew for the browser tests. The widgets read through a WidgetSource: the
// organisation's data for a member (orgSource), or a public dashboard's answers without login
// (publicDashboard.ts: no rules, no links into the app, no alarms or maps).
import type uPlot from 'uplot';
import { h } from '../dom';
import { t, fmtNum, fmtAgo } from '../i18n';
import { api, AppLatest, Widget } from '../api';
import type { DeviceRow } from '../state';
import type { OrgData } from '../state';
import { errorText } from '../ui';
import { RuleForChart, alignSeries, chartThresholds, ruleLimits, ruleWatches, ChartThreshold } from '../chart';
import { levelOf } from '../health';
import { timePlot, followWidth } from '../plot';
import { RANGES } from './compareChart';

export interface Drawn { el: HTMLElement; ready: Promise<void>; destroy: () => void }

const LEVEL_MARK: Record<string, string> = { critical: '⬣', warning: '▲', info: 'ℹ' };

type Timeseries = Extract<Widget, { type: 'timeseries' }>;
export type Range = (typeof RANGES)[number];

// A device's latest value of a key with its level against the rules that watch the device.
export interface Levelled { v: AppLatest['readings'][string]; num: number | null; level: string | null; rule?: string }

// What the widgets read.
export interface WidgetSource {
  deviceName(id: number): string;
  appName(id: number): string;
  reading(deviceId: number, key: string): Levelled | null;
  // [seconds, average] per bucket of each series of the widget, over its period up to `toMs`.
  series(w: Timeseries, index: number, range: Range, toMs: number): Promise<Array<Array<[number, number | null]>>>;
  thresholds(deviceId: number, key: string): ChartThreshold[];
  deviceHref(id: number): string | null;  // null: no link (the public page)
  alarms(): AppAlarms;
  mapRows(appId: number): DeviceRow[];
}
type AppAlarms = NonNullable<OrgData['alarms']>;

function levelled(od: OrgData, rules: RuleForChart[], deviceId: number, key: string): Levelled | null {
  const row = od.byId.get(deviceId);
  const v = od.latest.get(deviceId)?.readings[key];
  if (!row || !v) return null;
  const num = typeof v.value === 'number' ? v.value : null;
  const { level, rule } = num === null ? { level: null, rule: undefined }
    : levelOf(num, ruleLimits(rules.filter((r) => ruleWatches(r, row.d)), row.d, key));
  return { v, num, level, rule };
}

// The organisation's data (state.ts orgData) and rules, for a member.
export function orgSource(od: OrgData, rules: RuleForChart[]): WidgetSource {
  return {
    deviceName: (id) => od.byId.get(id)?.d.name ?? `#${id}`,
    appName: (id) => od.apps.find((a) => a.id === id)?.name ?? '',
    reading: (deviceId, key) => levelled(od, rules, deviceId, key),
    series: async (w, _index, range, toMs) => {
      const from = new Date(toMs - range.ms).toISOString();
      const to = new Date(toMs).toISOString();
      const pages = await Promise.all(w.series.map((s) => api.buckets(s.deviceId, {
        key: s.key, from, to, bucket: range.bucket, agg: 'avg', limit: 10000,
      })));
      return pages.map((p) => p.items.map((b) => [Date.parse(b.ts) / 1000, b.avg] as [number, number | null]));
    },
    thresholds: (deviceId, key) => {
      const d = od.byId.get(deviceId)?.d;
      return d ? chartThresholds(rules, d, key) : [];
    },
    deviceHref: (id) => `/devices/${id}`,
    alarms: () => od.alarms ?? [],
    mapRows: (appId) => od.rows.filter((r) => r.d.applicationId === appId),
  };
}

function deviceLink(src: WidgetSource, id: number): Node | string {
  const href = src.deviceHref(id);
  return href ? h('a', { href }, src.deviceName(id)) : src.deviceName(id);
}

function card(w: Widget, index: number, heading: string, ...body: Array<Node | null>): HTMLElement {
  return h('section', {
    class: `card widget w-${w.type}`, 'data-type': w.type, 'data-index': String(index), 'aria-label': heading,
  }, h('h2', null, heading), ...body);
}

export function widgetTitle(w: Widget, src: WidgetSource): string {
  if (w.title) return w.title;
  switch (w.type) {
    case 'timeseries': return `${t('dash.type.timeseries')} · ${t(`device.range.${w.period}`)}`;
    case 'latest': case 'gauge': return `${src.deviceName(w.deviceId)} · ${w.key}`;
    case 'table': return t('dash.type.table');
    case 'alarms': return t('dash.type.alarms');
    case 'map': return `${t('dash.type.map')} · ${src.appName(w.applicationId)}`;
  }
}

function timeseries(w: Timeseries, index: number, src: WidgetSource): Drawn {
  const box = h('div', { class: 'chart', role: 'img', 'aria-label': widgetTitle(w, src) });
  const info = h('p', { class: 'chart-info', 'aria-live': 'polite' }, t('loading'));
  let plot: uPlot | null = null;
  const unfollow = followWidth(box, () => plot, 260);
  const range = RANGES.find((r) => r.key === w.period) ?? RANGES[1];
  const ready = (async () => {
    const toMs = Date.now();
    try {
      const { xs, series } = alignSeries(await src.series(w, index, range, toMs));
      if (!xs.length) { info.textContent = t('device.noData'); box.dataset.points = '0'; return; }
      const lines: ChartThreshold[] = [];
      for (const s of w.series) {
        for (const l of src.thresholds(s.deviceId, s.key)) {
          if (!lines.some((x) => x.value === l.value && x.rule === l.rule)) lines.push(l);
        }
      }
      const units = new Set(w.series.map((s) => src.reading(s.deviceId, s.key)?.v.unit).filter((u): u is string => !!u));
      const unit = units.size === 1 ? [...units][0] : '';
      info.textContent = t(`compare.avg.${range.bucket}`);
      plot = timePlot(box, {
        xs, series, labels: w.series.map((s) => `${src.deviceName(s.deviceId)} · ${s.key}`),
        maxGapS: 1.5 * range.bucketS, unit, lines, fromS: (toMs - range.ms) / 1000, toS: toMs / 1000,
        yLabel: unit, height: 260,
      });
    } catch (e) {
      info.textContent = errorText(e);
    }
  })();
  return {
    el: card(w, index, widgetTitle(w, src), info, box), ready,
    destroy: () => { unfollow(); plot?.destroy(); },
  };
}

// The value as text with its unit, its level's mark and (for screen readers) the rule it breaks.
function valueText(x: Levelled): Array<Node | string | null> {
  const mark = x.level && x.level !== 'ok' ? LEVEL_MARK[x.level] : '';
  return [mark ? h('span', { class: 'lv-mark', 'aria-hidden': 'true' }, mark) : null,
    `${x.num === null ? String(x.v.value) : fmtNum(x.num)}${x.v.unit ? ` ${x.v.unit}` : ''}`,
    x.rule ? h('span', { class: 'sr-only' }, ` (${t('compare.breaches', { rule: x.rule })})`) : null];
}

function levelAttrs(x: Levelled, cls: string): Record<string, string | null> {
  return {
    class: `${cls}${x.level ? ` lv-${x.level}` : ''}`, 'data-level': x.level ?? null, 'data-value': String(x.v.value),
    title: x.rule ? t('compare.breaches', { rule: x.rule }) : null,
  };
}

function seenHint(src: WidgetSource, deviceId: number, x: Levelled): HTMLElement {
  return h('p', { class: 'hint' }, deviceLink(src, deviceId), ' · ', fmtAgo(Date.parse(x.v.ts)));
}

function latest(w: Extract<Widget, { type: 'latest' }>, index: number, src: WidgetSource): Drawn {
  const x = src.reading(w.deviceId, w.key);
  const body = !x ? h('p', { class: 'tile-value', 'data-level': null }, '–')
    : h('div', null, h('p', levelAttrs(x, 'tile-value'), ...valueText(x)), seenHint(src, w.deviceId, x));
  return { el: card(w, index, widgetTitle(w, src), body), ready: Promise.resolve(), destroy: () => {} };
}

// A half-circle scale from min to max, filled up to the value (clamped), in the value's level.
function gauge(w: Extract<Widget, { type: 'gauge' }>, index: number, src: WidgetSource): Drawn {
  const x = src.reading(w.deviceId, w.key);
  const share = x?.num == null ? 0 : Math.min(1, Math.max(0, (x.num - w.min) / (w.max - w.min)));
  const arc = (to: number) => {
    const a = Math.PI * (1 - to);
    return `M 10 60 A 50 50 0 0 1 ${(60 + 50 * Math.cos(a)).toFixed(2)} ${(60 - 50 * Math.sin(a)).toFixed(2)}`;
  };
  const svg = document.createElementNS('http://www.w3.org/2000/svg', 'svg');
  svg.setAttribute('viewBox', '0 0 120 70');
  svg.setAttribute('aria-hidden', 'true');
  svg.setAttribute('class', 'gauge');
  for (const [d, cls] of [[arc(1), 'gauge-track'], [arc(share), `gauge-fill${x?.level ? ` lv-${x.level}` : ''}`]]) {
    if (cls.startsWith('gauge-fill') && share === 0) continue;
    const p = document.createElementNS('http://www.w3.org/2000/svg', 'path');
    p.setAttribute('d', d);
    p.setAttribute('class', cls);
    svg.appendChild(p);
  }
  const scale = h('p', { class: 'hint gauge-scale' }, h('span', null, fmtNum(w.min)), h('span', null, fmtNum(w.max)));
  const body = !x ? h('div', { 'data-share': '0' }, svg, h('p', { class: 'tile-value', 'data-level': null }, '–'), scale)
    : h('div', { 'data-share': share.toFixed(3) }, svg, h('p', levelAttrs(x, 'tile-value'), ...valueText(x)), scale, seenHint(src, w.deviceId, x));
  return { el: card(w, index, widgetTitle(w, src), body), ready: Promise.resolve(), destroy: () => {} };
}

// Devices (rows) × keys (columns), each cell coloured by its level.
function tableWidget(w: Extract<Widget, { type: 'table' }>, index: number, src: WidgetSource): Drawn {
  const head = h('tr', null, h('th', { scope: 'col' }, t('compare.device')), w.keys.map((k) => h('th', { scope: 'col' }, k)));
  const rows = w.deviceIds.map((id) => h('tr', { 'data-device': String(id) },
    h('th', { scope: 'row' }, deviceLink(src, id)),
    w.keys.map((k) => {
      const x = src.reading(id, k);
      return x ? h('td', { ...levelAttrs(x, 'num'), 'data-key': k }, ...valueText(x))
        : h('td', { class: 'num', 'data-key': k }, '–');
    })));
  const table = h('div', { class: 'table-wrap' }, h('table', { class: 'dash-table' },
    h('caption', { class: 'sr-only' }, widgetTitle(w, src)), h('thead', null, head), h('tbody', null, rows)));
  return { el: card(w, index, widgetTitle(w, src), table), ready: Promise.resolve(), destroy: () => {} };
}

function alarms(w: Extract<Widget, { type: 'alarms' }>, index: number, src: WidgetSource): Drawn {
  const open = src.alarms();
  const body = open.length
    ? h('ul', { class: 'alarm-list' }, open.slice(0, 50).map((a) => h('li', { 'data-severity': a.severity ?? null },
      h('span', { class: `sev sev-${a.severity ?? 'info'}` }, a.severity ? t(`severity.${a.severity}`) : ''), ' ',
      a.deviceId ? h('a', { href: `/devices/${a.deviceId}` }, a.deviceName || src.deviceName(a.deviceId)) : null,
      ': ', a.message ?? a.ruleName ?? '')))
    : h('p', { class: 'empty' }, t('dash.noAlarms'));
  return {
    el: card(w, index, widgetTitle(w, src), body, h('p', null, h('a', { href: '/alarms' }, t('nav.alarms')))),
    ready: Promise.resolve(), destroy: () => {},
  };
}

function mapWidget(w: Extract<Widget, { type: 'map' }>, index: number, src: WidgetSource): Drawn {
  const box = h('div', { class: 'map dash-map', role: 'region', 'aria-label': widgetTitle(w, src) });
  const rows = src.mapRows(w.applicationId);
  const legend = h('p', { class: 'hint' }, t('map.count', { n: rows.filter((r) => r.d.location).length }));
  let destroy = () => {};
  const ready = import('./dashboardMap').then((m) => { destroy = m.deviceMap(box, rows); });
  return {
    el: card(w, index, widgetTitle(w, src), legend, box, h('p', null,
      h('a', { href: `/map?app=${w.applicationId}` }, t('map.title')))),
    ready, destroy: () => destroy(),
  };
}

export function drawFrom(w: Widget, index: number, src: WidgetSource): Drawn {
  switch (w.type) {
    case 'timeseries': return timeseries(w, index, src);
    case 'latest': return latest(w, index, src);
    case 'gauge': return gauge(w, index, src);
    case 'table': return tableWidget(w, index, src);
    case 'alarms': return alarms(w, index, src);
    case 'map': return mapWidget(w, index, src);
  }
}

// A member's dashboard widget, from the organisation's data and rules.
export function drawWidget(w: Widget, index: number, od: OrgData, rules: RuleForChart[]): Drawn {
  return drawFrom(w, index, orgSource(od, rules));
}
