// The dashboard editor (editors and admins): name, the least role that sees the dashboard, and its
// widgets — add one of the four types, set its devices, keys, period or application, move it up or
// down, remove it — then save (POST or PUT; the server validates the layout, api/dashboards.cc).
// Admins also make it public (read without login at /public/dashboards/{id}; the server refuses
// widgets outside published open data), and see its public address.
import { h, field } from '../dom';
import { t } from '../i18n';
import { api, Dashboard, DashboardInput, Role, Widget, publicUrl } from '../api';
import { orgData, state, role, isAdmin, OrgData } from '../state';
import { title, notice, errorText } from '../ui';
import type { Params } from '../router';
import { navigate } from '../router';

const TYPES: Array<Widget['type']> = ['timeseries', 'latest', 'gauge', 'table', 'alarms', 'map'];
const ROLES: Role[] = ['viewer', 'operator', 'editor', 'admin'];
const PERIODS = ['24h', '7d', '30d'] as const;

function blank(type: Widget['type'], od: OrgData): Widget {
  const dev = od.rows[0]?.d.id ?? 0;
  const key = Object.keys(od.latest.get(dev)?.readings ?? {})[0] ?? '';
  switch (type) {
    case 'timeseries': return { type, title: '', period: '7d', series: [{ deviceId: dev, key }] };
    case 'latest': return { type, title: '', deviceId: dev, key };
    case 'gauge': return { type, title: '', deviceId: dev, key, min: 0, max: 100 };
    case 'table': return { type, title: '', deviceIds: od.rows.slice(0, 5).map((r) => r.d.id), keys: key ? [key] : [] };
    case 'alarms': return { type, title: '' };
    case 'map': return { type, title: '', applicationId: od.apps[0]?.id ?? 0 };
  }
}

// A device select and a key field (suggesting the device's keys) bound to `target`.
function deviceKey(od: OrgData, target: { deviceId: number; key: string }, n: string): HTMLElement[] {
  const dev = h('select', { class: 'w-device', 'aria-label': `${t('dash.device')} ${n}` },
    od.rows.map((r) => h('option', { value: String(r.d.id) }, r.d.name)));
  dev.value = String(target.deviceId);
  const list = h('datalist', { id: `keys-${Math.random().toString(36).slice(2)}` });
  const fill = () => list.replaceChildren(...Object.keys(od.latest.get(target.deviceId)?.readings ?? {})
    .map((k) => h('option', { value: k })));
  const key = h('input', { class: 'w-key', list: list.id, value: target.key, 'aria-label': `${t('dash.key')} ${n}`, autocomplete: 'off' });
  dev.addEventListener('change', () => { target.deviceId = Number(dev.value); fill(); });
  key.addEventListener('input', () => { target.key = key.value.trim(); });
  fill();
  return [dev, key, list];
}

function widgetForm(w: Widget, i: number, n: number, od: OrgData, redraw: () => void, widgets: Widget[]): HTMLElement {
  const label = `${i + 1}`;
  const titleIn = h('input', { class: 'w-title', value: w.title ?? '', maxlength: '100' });
  titleIn.addEventListener('input', () => { w.title = titleIn.value; });
  const body: HTMLElement[] = [field(t('dash.widgetTitle'), titleIn)];
  if (w.type === 'timeseries') {
    const period = h('select', { class: 'w-period' }, PERIODS.map((p) => h('option', { value: p }, t(`device.range.${p}`))));
    period.value = w.period;
    period.addEventListener('change', () => { w.period = period.value as typeof w.period; });
    body.push(field(t('device.range'), period));
    w.series.forEach((s, k) => body.push(h('div', { class: 'row w-series' }, ...deviceKey(od, s, `${label}.${k + 1}`),
      w.series.length > 1 ? h('button', {
        type: 'button', class: 'secondary', 'aria-label': `${t('dash.removeSeries')} ${label}.${k + 1}`,
        onclick: () => { w.series.splice(k, 1); redraw(); },
      }, '✕') : null)));
    body.push(h('button', {
      type: 'button', class: 'secondary w-add-series', onclick: () => {
        const last = w.series[w.series.length - 1];
        w.series.push({ ...last });
        redraw();
      },
    }, t('dash.addSeries')));
  } else if (w.type === 'latest') {
    body.push(h('div', { class: 'row' }, ...deviceKey(od, w, label)));
  } else if (w.type === 'gauge') {
    const bound = (which: 'min' | 'max') => {
      const input = h('input', { class: `w-${which}`, type: 'number', step: 'any', value: String(w[which]) });
      input.addEventListener('input', () => { w[which] = Number(input.value); });
      return field(t(`dash.${which}`), input);
    };
    body.push(h('div', { class: 'row' }, ...deviceKey(od, w, label)), h('div', { class: 'row' }, bound('min'), bound('max')));
  } else if (w.type === 'table') {
    const devs = h('select', { class: 'w-devices', multiple: true, size: String(Math.min(8, Math.max(3, od.rows.length))) },
      od.rows.map((r) => h('option', { value: String(r.d.id), selected: w.deviceIds.includes(r.d.id) }, r.d.name)));
    devs.addEventListener('change', () => { w.deviceIds = [...devs.selectedOptions].map((o) => Number(o.value)); });
    const keys = h('input', { class: 'w-keys', value: w.keys.join(', '), autocomplete: 'off' });
    keys.addEventListener('input', () => { w.keys = keys.value.split(',').map((k) => k.trim()).filter(Boolean); });
    body.push(field(t('dash.devices'), devs), field(t('dash.keys'), keys));
  } else if (w.type === 'map') {
    const app = h('select', { class: 'w-app', 'aria-label': t('devices.app') }, od.apps.map((a) => h('option', { value: String(a.id) }, a.name)));
    app.value = String(w.applicationId);
    app.addEventListener('change', () => { w.applicationId = Number(app.value); });
    body.push(field(t('devices.app'), app));
  }
  const move = (by: number) => { const [x] = widgets.splice(i, 1); widgets.splice(i + by, 0, x); redraw(); };
  return h('li', { class: 'card w-edit', 'data-type': w.type, 'data-index': String(i) },
    h('h3', null, `${label}. ${t(`dash.type.${w.type}`)}`), ...body,
    h('div', { class: 'actions' },
      h('button', { type: 'button', class: 'secondary w-up', disabled: i === 0, onclick: () => move(-1) }, t('dash.up')),
      h('button', { type: 'button', class: 'secondary w-down', disabled: i === n - 1, onclick: () => move(1) }, t('dash.down')),
      h('button', { type: 'button', class: 'danger w-remove', onclick: () => { widgets.splice(i, 1); redraw(); } },
        t('dash.remove'))));
}

// "Public (open data)" with the public address of a saved dashboard that is public.
function publicField(existing: Dashboard | null): { el: HTMLElement; input: HTMLInputElement } {
  const input = h('input', { type: 'checkbox', id: 'dash-public', checked: !!existing?.public, 'aria-describedby': 'dash-public-hint' }) as HTMLInputElement;
  const url = h('p', { class: 'hint', id: 'dash-public-url', 'aria-live': 'polite' });
  const show = () => url.replaceChildren(...(!input.checked ? [] : existing?.public
    ? [`${t('dash.publicUrl')}: `, h('a', { href: publicUrl(existing.id) }, publicUrl(existing.id))]
    : [t('dash.publicAfterSave')]));
  input.addEventListener('change', show);
  show();
  const el = h('div', { class: 'field check' }, input, h('label', { for: 'dash-public' }, t('dash.public')));
  return { el: h('div', null, el, h('small', { class: 'hint', id: 'dash-public-hint' }, t('dash.publicHint')), url), input };
}

export async function dashboardEditorScreen(root: HTMLElement, p: Params): Promise<void> {
  const [od, existing] = await Promise.all([orgData(), p.id ? api.dashboard(Number(p.id)) : Promise.resolve(null as Dashboard | null)]);
  root.appendChild(title(existing ? t('dash.editTitle', { name: existing.name }) : t('dash.new')));
  const draft: DashboardInput = existing
    ? { name: existing.name, minRole: existing.minRole, applicationId: existing.applicationId ?? null, layout: structuredClone(existing.layout) }
    : { name: '', minRole: 'viewer', applicationId: null, layout: { widgets: [] } };
  const widgets = draft.layout.widgets;
  const name = h('input', { id: 'dash-name', value: draft.name, required: true, maxlength: '100' });
  const mine = ROLES.indexOf(role() ?? 'viewer');
  const minRole = h('select', { id: 'dash-role' }, ROLES.filter((_, i) => i <= mine).map((r) => h('option', { value: r }, t(`role.${r}`))));
  minRole.value = draft.minRole;
  // Shared with one application: its members with access to that application only see it too
  // (then every widget must show that application's devices).
  const shared = h('select', { id: 'dash-app' }, h('option', { value: '' }, t('dash.sharedOrg')),
    ...od.apps.map((a) => h('option', { value: String(a.id) }, a.name)));
  shared.value = draft.applicationId === null ? '' : String(draft.applicationId);
  const publicBox = isAdmin() ? publicField(existing) : null;
  const typeSel = h('select', { id: 'dash-type' }, TYPES.map((x) => h('option', { value: x }, t(`dash.type.${x}`))));
  const list = h('ol', { class: 'w-list', id: 'dash-widgets' });
  const err = h('div', { 'aria-live': 'assertive' });
  const redraw = () => list.replaceChildren(...widgets.map((w, i) => widgetForm(w, i, widgets.length, od, redraw, widgets)));
  const add = h('button', {
    type: 'button', id: 'dash-add', class: 'secondary',
    onclick: () => { widgets.push(blank(typeSel.value as Widget['type'], od)); redraw(); },
  }, t('dash.add'));
  const form = h('form', { class: 'dash-form', id: 'dash-form', novalidate: true },
    h('div', { class: 'row' }, field(t('dash.name'), name), field(t('dash.minRole'), minRole, t('dash.minRoleHint')),
      field(t('dash.shared'), shared, t('dash.sharedHint'))),
    publicBox?.el ?? null,
    list,
    h('div', { class: 'row' }, field(t('dash.widgetType'), typeSel), h('div', { class: 'field' }, add)),
    err,
    h('div', { class: 'actions' },
      h('button', { type: 'submit', id: 'dash-save' }, t('dash.save')),
      h('a', { class: 'button secondary', href: existing ? `/dashboards/${existing.id}` : '/dashboards' }, t('dash.cancel'))));
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    draft.name = name.value.trim();
    draft.minRole = minRole.value as Role;
    draft.applicationId = shared.value ? Number(shared.value) : null;
    if (publicBox) draft.public = publicBox.input.checked;
    if (!draft.name) { name.setAttribute('aria-invalid', 'true'); err.replaceChildren(notice(t('dash.nameMissing'), 'error')); name.focus(); return; }
    void (async () => {
      try {
        const saved = existing ? await api.updateDashboard(existing.id, draft) : await api.createDashboard(state.orgId, draft);
        navigate(`/dashboards/${saved.id}`);
      } catch (x) {
        err.replaceChildren(notice(errorText(x), 'error'));
      }
    })();
  });
  redraw();
  root.appendChild(form);
}
