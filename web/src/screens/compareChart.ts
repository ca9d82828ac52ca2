// One quantity for several devices of an application on one time chart ("all classrooms' CO₂
// this week"), optionally school hours only (weekdays 8–16 Europe/Copenhagen): each device's
// buckets of its own key (15 min for a day, 1 h for a week or a month) on a shared time axis,
// with the limits of the rules that watch them. Drawn by plot.ts; `#mchart` also exposes the
// devices drawn (`data-devices`) and the Copenhagen hours and weekdays of its points
// (`data-hours`, `data-weekdays`) for the browser tests.
import type uPlot from 'uplot';
import { h, field } from '../dom';
import { t, locale } from '../i18n';
import { api, AppLatest, Bucket, Page } from '../api';
import type { DeviceRow } from '../state';
import { errorText } from '../ui';
import { ChartThreshold, RuleForChart, alignSeries, chartThresholds, inSchoolHours, CHART_TIME_ZONE } from '../chart';
import { Quantity, valueOf } from '../health';
import { timePlot, followWidth, DEVICE_COLORS } from '../plot';

export const RANGES: Array<{ key: string; ms: number; bucket: string; bucketS: number }> = [
  { key: '24h', ms: 86_400_000, bucket: '15m', bucketS: 900 },
  { key: '7d', ms: 7 * 86_400_000, bucket: '1h', bucketS: 3_600 },
  { key: '30d', ms: 30 * 86_400_000, bucket: '1h', bucketS: 3_600 },
];
// At most this many devices are drawn (a colour each); the first ones are ticked to begin with.
const MAX_DEVICES = DEVICE_COLORS.length;
const MAX_SHOWN = 40;

const hourFormat = new Intl.DateTimeFormat('en-GB', { timeZone: CHART_TIME_ZONE, hour: 'numeric', hourCycle: 'h23' });
const dayFormat = new Intl.DateTimeFormat('en-GB', { timeZone: CHART_TIME_ZONE, weekday: 'short' });

export function multiChart(devices: DeviceRow[], latest: Map<number, AppLatest>, rules: RuleForChart[],
  qs: Quantity[]): { el: HTMLElement; destroy: () => void } {
  if (!qs.length) return { el: h('p', null, t('compare.noValues')), destroy: () => {} };
  let plot: uPlot | null = null;
  let seq = 0;
  const keySel = h('select', { id: 'mchart-key' }, qs.map((q) => h('option', { value: q }, t(`compare.q.${q}`))));
  keySel.value = qs.includes('co2') ? 'co2' : qs[0];
  const rangeSel = h('select', { id: 'mchart-range' }, RANGES.map((r) => h('option', { value: r.key }, t(`device.range.${r.key}`))));
  rangeSel.value = '7d';
  const school = h('input', { type: 'checkbox', id: 'mchart-school' });
  const picks = h('fieldset', { id: 'mchart-devices', class: 'checks' });
  const info = h('p', { class: 'chart-info', id: 'mchart-info', 'aria-live': 'polite' });
  const box = h('div', { class: 'chart', id: 'mchart', role: 'img', 'aria-label': t('compare.chart') });

  // The devices with a value of the quantity, the first MAX_DEVICES ticked. A long list is
  // narrowed by a name filter: at most MAX_SHOWN devices are listed (ticked ones first).
  const picked = new Set<number>();
  let having: DeviceRow[] = [];
  const filter = h('input', { type: 'search', id: 'mchart-filter', autocomplete: 'off' });
  const filterField = field(t('compare.filter'), filter);
  const list = h('div', { class: 'checks-list' });
  picks.append(h('legend', null, t('compare.devices', { max: MAX_DEVICES })), filterField, list);
  const drawList = () => {
    const words = filter.value.trim().toLowerCase().split(/\s+/).filter(Boolean);
    const match = having.filter((r) => words.every((w) => r.d.name.toLowerCase().includes(w)));
    const shown = [...match.filter((r) => picked.has(r.d.id)), ...match.filter((r) => !picked.has(r.d.id))].slice(0, MAX_SHOWN);
    list.replaceChildren(...shown.map((r) => h('label', { class: 'check' },
      h('input', { type: 'checkbox', value: String(r.d.id), checked: picked.has(r.d.id) }), ` ${r.d.name}`)));
    if (match.length > shown.length) list.append(h('p', { class: 'hint' }, t('compare.more', { n: match.length - shown.length })));
  };
  const drawPicks = () => {
    const q = keySel.value as Quantity;
    const coll = new Intl.Collator(locale(), { numeric: true });
    having = devices.filter((r) => valueOf(latest.get(r.d.id), q)).sort((a, b) => coll.compare(a.d.name, b.d.name));
    picked.clear();
    for (const r of having.slice(0, MAX_DEVICES)) picked.add(r.d.id);
    filterField.hidden = having.length <= MAX_SHOWN;
    drawList();
  };
  list.addEventListener('change', (e) => {
    const box = e.target as HTMLInputElement;
    if (box.checked) picked.add(Number(box.value)); else picked.delete(Number(box.value));
  });
  filter.addEventListener('input', drawList);

  const load = async () => {
    const my = ++seq;
    const q = keySel.value as Quantity;
    const r = RANGES.find((x) => x.key === rangeSel.value) ?? RANGES[1];
    const chosen = having.filter((d) => picked.has(d.d.id)).slice(0, MAX_DEVICES);
    const toMs = Date.now();
    const from = new Date(toMs - r.ms).toISOString();
    const to = new Date(toMs).toISOString();
    info.textContent = t('loading');
    let pages: Array<Page<Bucket>>;
    try {
      pages = await Promise.all(chosen.map((d) => api.buckets(d.d.id, {
        key: valueOf(latest.get(d.d.id), q)?.key ?? q, from, to, bucket: r.bucket, agg: 'avg', limit: 10000,
      })));
    } catch (e) {
      if (my === seq) info.textContent = errorText(e);
      return;
    }
    if (my !== seq) return;
    const keep = school.checked ? inSchoolHours : () => true;
    const points = pages.map((p) => p.items.map((b) => [Date.parse(b.ts) / 1000, b.avg] as [number, number | null])
      .filter(([x]) => keep(x)));
    const { xs, series } = alignSeries(points);
    plot?.destroy();
    plot = null;
    box.dataset.devices = String(chosen.length);
    box.dataset.school = school.checked ? '1' : '0';
    box.dataset.hours = [...new Set(xs.map((x) => Number(hourFormat.format(x * 1000))))].sort((a, b) => a - b).join(',');
    box.dataset.weekdays = [...new Set(xs.map((x) => dayFormat.format(x * 1000)))].join(',');
    box.dataset.points = String(xs.length);
    if (!xs.length) { box.replaceChildren(); info.textContent = t('device.noData'); return; }
    const lines: ChartThreshold[] = [];
    for (const d of chosen) {
      const key = valueOf(latest.get(d.d.id), q)?.key ?? q;
      for (const l of chartThresholds(rules, d.d, key)) {
        if (!lines.some((x) => x.value === l.value && x.rule === l.rule)) lines.push(l);
      }
    }
    const unit = chosen.map((d) => valueOf(latest.get(d.d.id), q)?.unit).find((u) => u) ?? '';
    const name = t(`compare.q.${q}`);
    info.textContent = `${t(`compare.avg.${r.bucket}`)} · ${t('compare.drawn', { n: chosen.length })}` +
      (school.checked ? ` · ${t('compare.school')}` : '');
    plot = timePlot(box, {
      xs, series, labels: chosen.map((d) => d.d.name), maxGapS: 1.5 * r.bucketS, unit, lines,
      fromS: (toMs - r.ms) / 1000, toS: toMs / 1000, yLabel: unit ? `${name} (${unit})` : name,
    });
  };
  keySel.addEventListener('change', () => { drawPicks(); void load(); });
  for (const el of [rangeSel, school, list]) el.addEventListener('change', () => void load());
  const unfollow = followWidth(box, () => plot);
  drawPicks();
  void load();
  const el = h('div', null,
    h('div', { class: 'row' }, field(t('compare.quantity'), keySel), field(t('device.range'), rangeSel),
      h('div', { class: 'field' }, h('label', { class: 'check' }, school, ` ${t('compare.school')}`))),
    picks, info, box);
  return { el, destroy: () => { unfollow(); plot?.destroy(); } };
}
