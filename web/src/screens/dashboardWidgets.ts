// The widgets of a saved dashboard (issue 21 §4), each drawn into its own card from what the other
// screens read: a time series of several devices × keys (the device's buckets over 24 h / 7 d /
// 30 d, drawn by plot.ts as the comparison's chart is), a latest-value tile coloured against the
// limits of the rules that watch the device (health.ts levelOf, as the comparison's cells), the
// organisation's open alarms, and a map of an application's devices (dashboardMap.ts). Each
// widget resolves when drawn; `data-*` attributes expose what it drew for the browser tests.
import type uPlot from 'uplot';
import { h } from '../dom';
import { t, fmtNum, fmtAgo } from '../i18n';
import { api, Widget } from '../api';
import type { OrgData } from '../state';
import { errorText } from '../ui';
import { RuleForChart, alignSeries, chartThresholds, ruleLimits, ruleWatches, ChartThreshold } from '../chart';
import { levelOf } from '../health';
import { timePlot, followWidth } from '../plot';
import { RANGES } from './compareChart';

export interface Drawn { el: HTMLElement; ready: Promise<void>; destroy: () => void }

const LEVEL_MARK: Record<string, string> = { critical: '⬣', warning: '▲', info: 'ℹ' };

function card(w: Widget, index: number, heading: string, ...body: Array<Node | null>): HTMLElement {
  return h('section', {
    class: `card widget w-${w.type}`, 'data-type': w.type, 'data-index': String(index), 'aria-label': heading,
  }, h('h2', null, heading), ...body);
}

function deviceName(od: OrgData, id: number): string {
  return od.byId.get(id)?.d.name ?? `#${id}`;
}

export function widgetTitle(w: Widget, od: OrgData): string {
  if (w.title) return w.title;
  switch (w.type) {
    case 'timeseries': return `${t('dash.type.timeseries')} · ${t(`device.range.${w.period}`)}`;
    case 'latest': return `${deviceName(od, w.deviceId)} · ${w.key}`;
    case 'alarms': return t('dash.type.alarms');
    case 'map': return `${t('dash.type.map')} · ${od.apps.find((a) => a.id === w.applicationId)?.name ?? ''}`;
  }
}

function timeseries(w: Extract<Widget, { type: 'timeseries' }>, index: number, od: OrgData,
  rules: RuleForChart[]): Drawn {
  const box = h('div', { class: 'chart', role: 'img', 'aria-label': widgetTitle(w, od) });
  const info = h('p', { class: 'chart-info', 'aria-live': 'polite' }, t('loading'));
  let plot: uPlot | null = null;
  const unfollow = followWidth(box, () => plot, 260);
  const range = RANGES.find((r) => r.key === w.period) ?? RANGES[1];
  const ready = (async () => {
    const toMs = Date.now();
    const from = new Date(toMs - range.ms).toISOString();
    const to = new Date(toMs).toISOString();
    try {
      const pages = await Promise.all(w.series.map((s) => api.buckets(s.deviceId, {
        key: s.key, from, to, bucket: range.bucket, agg: 'avg', limit: 10000,
      })));
      const { xs, series } = alignSeries(pages.map((p) => p.items.map((b) => [Date.parse(b.ts) / 1000, b.avg] as [number, number | null])));
      if (!xs.length) { info.textContent = t('device.noData'); box.dataset.points = '0'; return; }
      const lines: ChartThreshold[] = [];
      for (const s of w.series) {
        const d = od.byId.get(s.deviceId)?.d;
        for (const l of d ? chartThresholds(rules, d, s.key) : []) {
          if (!lines.some((x) => x.value === l.value && x.rule === l.rule)) lines.push(l);
        }
      }
      const units = new Set(w.series.map((s) => od.latest.get(s.deviceId)?.readings[s.key]?.unit).filter((u): u is string => !!u));
      const unit = units.size === 1 ? [...units][0] : '';
      info.textContent = t(`compare.avg.${range.bucket}`);
      plot = timePlot(box, {
        xs, series, labels: w.series.map((s) => `${deviceName(od, s.deviceId)} · ${s.key}`),
        maxGapS: 1.5 * range.bucketS, unit, lines, fromS: (toMs - range.ms) / 1000, toS: toMs / 1000,
        yLabel: unit, height: 260,
      });
    } catch (e) {
      info.textContent = errorText(e);
    }
  })();
  return {
    el: card(w, index, widgetTitle(w, od), info, box), ready,
    destroy: () => { unfollow(); plot?.destroy(); },
  };
}

function latest(w: Extract<Widget, { type: 'latest' }>, index: number, od: OrgData, rules: RuleForChart[]): Drawn {
  const row = od.byId.get(w.deviceId);
  const v = od.latest.get(w.deviceId)?.readings[w.key];
  let body: HTMLElement;
  if (!row || !v) {
    body = h('p', { class: 'tile-value', 'data-level': null }, '–');
  } else {
    const num = typeof v.value === 'number' ? v.value : null;
    const { level, rule } = num === null ? { level: null, rule: undefined }
      : levelOf(num, ruleLimits(rules.filter((r) => ruleWatches(r, row.d)), row.d, w.key));
    const mark = level && level !== 'ok' ? LEVEL_MARK[level] : '';
    body = h('div', null,
      h('p', {
        class: `tile-value${level ? ` lv-${level}` : ''}`, 'data-level': level ?? null, 'data-value': String(v.value),
        title: rule ? t('compare.breaches', { rule }) : null,
      }, mark ? h('span', { class: 'lv-mark', 'aria-hidden': 'true' }, mark) : null,
      `${num === null ? String(v.value) : fmtNum(num)}${v.unit ? ` ${v.unit}` : ''}`,
      rule ? h('span', { class: 'sr-only' }, ` (${t('compare.breaches', { rule })})`) : null),
      h('p', { class: 'hint' }, h('a', { href: `/devices/${w.deviceId}` }, row.d.name), ' · ', fmtAgo(Date.parse(v.ts))));
  }
  return { el: card(w, index, widgetTitle(w, od), body), ready: Promise.resolve(), destroy: () => {} };
}

function alarms(w: Extract<Widget, { type: 'alarms' }>, index: number, od: OrgData): Drawn {
  const open = od.alarms ?? [];
  const body = open.length
    ? h('ul', { class: 'alarm-list' }, open.slice(0, 50).map((a) => h('li', { 'data-severity': a.severity ?? null },
      h('span', { class: `sev sev-${a.severity ?? 'info'}` }, a.severity ? t(`severity.${a.severity}`) : ''), ' ',
      a.deviceId ? h('a', { href: `/devices/${a.deviceId}` }, a.deviceName || deviceName(od, a.deviceId)) : null,
      ': ', a.message ?? a.ruleName ?? '')))
    : h('p', { class: 'empty' }, t('dash.noAlarms'));
  return {
    el: card(w, index, widgetTitle(w, od), body, h('p', null, h('a', { href: '/alarms' }, t('nav.alarms')))),
    ready: Promise.resolve(), destroy: () => {},
  };
}

function mapWidget(w: Extract<Widget, { type: 'map' }>, index: number, od: OrgData): Drawn {
  const box = h('div', { class: 'map dash-map', role: 'region', 'aria-label': widgetTitle(w, od) });
  const rows = od.rows.filter((r) => r.d.applicationId === w.applicationId);
  const legend = h('p', { class: 'hint' }, t('map.count', { n: rows.filter((r) => r.d.location).length }));
  let destroy = () => {};
  const ready = import('./dashboardMap').then((m) => { destroy = m.deviceMap(box, rows); });
  return {
    el: card(w, index, widgetTitle(w, od), legend, box, h('p', null,
      h('a', { href: `/map?app=${w.applicationId}` }, t('map.title')))),
    ready, destroy: () => destroy(),
  };
}

export function drawWidget(w: Widget, index: number, od: OrgData, rules: RuleForChart[]): Drawn {
  switch (w.type) {
    case 'timeseries': return timeseries(w, index, od, rules);
    case 'latest': return latest(w, index, od, rules);
    case 'alarms': return alarms(w, index, od);
    case 'map': return mapWidget(w, index, od);
  }
}
