// A public dashboard, without login (issue 21 §4): `/public/dashboards/:id` draws the widgets of a
// dashboard an admin made public with dashboardWidgets.ts, from the public endpoints
// (api/dashboard_public.cc: names of the devices shown, latest values, time-series averages of
// published open data only), read only: no rules, no links into the app. There is no live
// stream without login: the data is read again every minute and the widgets redrawn.
// `#dash-grid[data-ready]` is set once every widget is drawn, `data-refreshed` counts re-reads.
import { h } from '../dom';
import { t, fmtDate } from '../i18n';
import { api, PublicDashboardData } from '../api';
import { title, notice } from '../ui';
import type { Params } from '../router';
import { Drawn, WidgetSource, drawFrom } from './dashboardWidgets';

const REFRESH_MS = 60_000;

function source(names: Map<number, string>, data: () => PublicDashboardData): WidgetSource {
  return {
    deviceName: (id) => names.get(id) ?? `#${id}`,
    appName: () => '',
    reading: (deviceId, key) => {
      const v = data().latest[String(deviceId)]?.[key];
      if (!v) return null;
      return { v, num: typeof v.value === 'number' ? v.value : null, level: null };
    },
    series: async (w, index) => w.series.map((s) => (data().series
      .find((x) => x.widget === index && x.deviceId === s.deviceId && x.key === s.key)?.items ?? [])
      .map((b) => [Date.parse(b.ts) / 1000, b.avg] as [number, number | null])),
    thresholds: () => [],
    deviceHref: () => null,
    alarms: () => [],
    mapRows: () => [],
  };
}

export async function publicDashboardScreen(root: HTMLElement, p: Params): Promise<() => void> {
  const id = Number(p.id);
  const [d, first] = await Promise.all([api.publicDashboard(id), api.publicDashboardData(id)]);
  let data = first;
  const src = source(new Map(d.devices.map((x) => [x.id, x.name])), () => data);
  const updated = h('p', { class: 'hint', id: 'pub-updated', 'aria-live': 'polite' });
  root.append(title(d.name), h('p', { class: 'hint' }, t('pubdash.intro')), updated);
  const grid = h('div', { class: 'dash-grid', id: 'dash-grid', 'data-id': String(d.id), 'data-refreshed': '0' });
  root.appendChild(grid);
  if (!d.layout.widgets.length) root.appendChild(notice(t('dash.empty')));
  let drawn: Drawn[] = [];
  const draw = () => {
    for (const x of drawn) x.destroy();
    drawn = d.layout.widgets.map((w, i) => drawFrom(w, i, src));
    grid.replaceChildren(...drawn.map((x) => x.el));
    updated.textContent = t('pubdash.updated', { time: fmtDate(Date.parse(data.to)) });
    void Promise.all(drawn.map((x) => x.ready)).then(() => { grid.dataset.ready = '1'; });
  };
  draw();
  const timer = window.setInterval(() => {
    void api.publicDashboardData(id).then((next) => {
      data = next;
      grid.dataset.refreshed = String(Number(grid.dataset.refreshed) + 1);
      draw();
    }).catch(() => { /* keep what is shown; try again in a minute */ });
  }, REFRESH_MS);
  return () => { window.clearInterval(timer); for (const x of drawn) x.destroy(); };
}
