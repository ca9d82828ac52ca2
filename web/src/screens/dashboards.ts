// Saved dashboards (issue 21 §4): the organisation's dashboards the user's role sees
// (`/dashboards`), one dashboard with its widgets (`/dashboards/:id`, dashboardWidgets.ts), and
// for editors the editor (`/dashboards/new`, `/dashboards/:id/edit`, dashboardEditor.ts). The
// widgets sit in a grid that stacks to one column on a phone, and the value widgets follow the
// live stream (dashboardLive.ts). `#dash-grid[data-render-ms]` is the
// time from the dashboard's answer until every widget is drawn (bench/ui).
import { h } from '../dom';
import { t, fmtDate } from '../i18n';
import { api, Dashboard, publicUrl } from '../api';
import { orgData, state, canEdit, restricted } from '../state';
import { title, notice, table } from '../ui';
import { orgRules } from '../health';
import { drawWidget } from './dashboardWidgets';
import { followLive } from './dashboardLive';
import type { Params } from '../router';
import { navigate } from '../router';

export async function dashboardsScreen(root: HTMLElement): Promise<void> {
  root.appendChild(title(t('dash.title'),
    canEdit() && !restricted() ? h('a', { class: 'button', href: '/dashboards/new', id: 'dash-new', 'data-edit': '' }, t('dash.new')) : null));
  const { items } = await api.dashboards(state.orgId);
  if (!items.length) { root.appendChild(notice(t('dash.none'))); return; }
  root.appendChild(table(t('dash.title'), [t('dash.name'), t('dash.minRole'), t('dash.widgets'), t('dash.updated')],
    items.map((d) => [h('a', { href: `/dashboards/${d.id}`, 'data-id': String(d.id) }, d.name), t(`role.${d.minRole}`),
      String(d.layout.widgets.length), fmtDate(Date.parse(d.updatedAt))]), 'cards dash-list'));
}

export async function dashboardScreen(root: HTMLElement, p: Params): Promise<() => void> {
  const t0 = performance.now();
  const [d, od, rules] = await Promise.all([api.dashboard(Number(p.id)), orgData(), orgRules(state.orgId)]);
  const t1 = performance.now();
  root.appendChild(title(d.name, canEdit() && !restricted() ? h('div', { class: 'actions', 'data-edit': '' },
    h('a', { class: 'button', href: `/dashboards/${d.id}/edit`, id: 'dash-edit' }, t('dash.edit')),
    h('button', { type: 'button', class: 'danger', id: 'dash-delete', onclick: () => void remove(d) }, t('dash.delete'))) : null));
  if (d.public) {
    const url = publicUrl(d.id);
    root.appendChild(h('p', { class: 'hint', id: 'dash-public-link' }, `${t('dash.publicUrl')}: `, h('a', { href: url }, url)));
  }
  const grid = h('div', { class: 'dash-grid', id: 'dash-grid', 'data-id': String(d.id) });
  root.appendChild(grid);
  if (!d.layout.widgets.length) root.appendChild(notice(t('dash.empty')));
  const drawn = d.layout.widgets.map((w, i) => drawWidget(w, i, od, rules));
  grid.append(...drawn.map((x) => x.el));
  void Promise.all(drawn.map((x) => x.ready)).then(() => requestAnimationFrame(() => {
    grid.dataset.fetchMs = (t1 - t0).toFixed(1);
    grid.dataset.renderMs = (performance.now() - t0).toFixed(1);
    grid.dataset.ready = '1';
  }));
  const stopLive = followLive(d.layout.widgets, drawn, od, rules);
  return () => { stopLive(); for (const x of drawn) x.destroy(); };
}

async function remove(d: Dashboard): Promise<void> {
  if (!confirm(t('dash.confirmDelete', { name: d.name }))) return;
  await api.deleteDashboard(d.id);
  navigate('/dashboards');
}
