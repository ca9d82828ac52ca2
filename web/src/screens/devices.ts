// The device list: filter and sort in memory, render only the rows in view
// (fixed row height), so 10,000 devices render and filter in milliseconds.
import { h, field, debounce } from '../dom';
import { t, tEnum, fmtAgo, fmtNum, locale } from '../i18n';
import { orgData, canEdit, state, DeviceRow, Status } from '../state';
import { LatestValue, isLowBattery, orgRules, valueOf } from '../health';
import { title, badge } from '../ui';

const ROW_H = 44;
type SortKey = 'name' | 'app' | 'status' | 'transport' | 'battery' | 'signal' | 'lastSeen';
const STATUS_ORDER: Record<Status, number> = { alarm: 0, silent: 1, unknown: 2, maintenance: 3, ok: 4 };

export async function devicesScreen(root: HTMLElement): Promise<() => void> {
  const newBtn = canEdit()
    ? [h('a', { class: 'button', href: '/devices/new', 'data-edit': '' }, t('devices.new')),
      h('a', { class: 'button secondary', href: '/import', 'data-edit': '' }, t('nav.import'))]
    : [];
  root.appendChild(title(t('devices.title'), h('div', { class: 'actions' }, newBtn)));
  const [od, rules] = await Promise.all([orgData(), orgRules(state.orgId)]);
  // A device's battery and signal (RSSI, with the SNR when it has one) from its latest values.
  const battery = (r: DeviceRow) => valueOf(od.latest.get(r.d.id), 'battery');
  const rssi = (r: DeviceRow) => valueOf(od.latest.get(r.d.id), 'rssi');
  const show = (v: LatestValue | null) => (v ? `${fmtNum(v.value as number)}${v.unit ? ` ${v.unit}` : ''}` : '–');
  const params = new URLSearchParams(location.search);

  const search = h('input', { type: 'search', id: 'device-search', value: params.get('q') ?? '', autocomplete: 'off' });
  const all = h('option', { value: '' }, t('devices.all'));
  const appSel = h('select', { id: 'filter-app' }, all,
    od.apps.map((a) => h('option', { value: String(a.id) }, a.name)));
  const modelSel = h('select', { id: 'filter-model' }, h('option', { value: '' }, t('devices.all')),
    od.models.map((m) => h('option', { value: String(m.id) }, m.name)));
  const tags = [...new Set(od.rows.flatMap((r) => r.d.tags))].sort();
  const tagSel = h('select', { id: 'filter-tag' }, h('option', { value: '' }, t('devices.all')),
    tags.map((x) => h('option', { value: x }, x)));
  const statusSel = h('select', { id: 'filter-status' }, h('option', { value: '' }, t('devices.all')),
    (['ok', 'silent', 'alarm', 'maintenance', 'unknown'] as Status[]).map((s) => h('option', { value: s }, t(`status.${s}`))));
  appSel.value = params.get('app') ?? '';
  statusSel.value = params.get('status') ?? '';

  const count = h('p', { class: 'count', id: 'device-count', 'aria-live': 'polite' });
  const filters = h('div', { class: 'filters', role: 'search' },
    field(t('devices.search'), search, t('devices.searchHint')),
    field(t('devices.app'), appSel), field(t('devices.model'), modelSel),
    field(t('devices.tag'), tagSel), field(t('devices.status'), statusSel));

  let sortKey: SortKey = 'name';
  let sortDir = 1;
  const cols: Array<[SortKey, string]> = [
    ['name', t('devices.name')], ['app', t('devices.app')], ['transport', t('devices.transport')],
    ['status', t('devices.status')], ['battery', t('devices.battery')], ['signal', t('devices.signal')],
    ['lastSeen', t('devices.lastSeen')]];
  const head = h('div', { class: 'vrow vhead', role: 'row', 'aria-rowindex': '1' });
  const viewport = h('div', { class: 'vbody', tabindex: '0', role: 'rowgroup', 'aria-label': t('devices.title') });
  const spacer = h('div', { class: 'vspacer' });
  const rowsEl = h('div', { class: 'vrows' });
  viewport.append(spacer, rowsEl);
  const grid = h('div', { class: 'vtable', role: 'table', id: 'device-table', 'aria-label': t('devices.title') },
    h('div', { role: 'rowgroup' }, head), viewport);
  const empty = h('p', { class: 'empty', hidden: true }, t('devices.empty'));
  root.append(filters, count, grid, empty);

  let view: DeviceRow[] = od.rows;

  function drawHead(): void {
    head.replaceChildren(...cols.map(([k, label]) => h('div', {
      role: 'columnheader', class: `c-${k}`,
      'aria-sort': sortKey === k ? (sortDir > 0 ? 'ascending' : 'descending') : 'none',
    }, h('button', {
      type: 'button', class: 'sort', 'aria-label': t('devices.sortBy', { col: label }),
      onclick: () => { if (sortKey === k) sortDir = -sortDir; else { sortKey = k; sortDir = 1; } apply(); drawHead(); },
    }, label, sortKey === k ? (sortDir > 0 ? ' ▲' : ' ▼') : ''))));
  }

  const coll = new Intl.Collator(locale(), { numeric: true, sensitivity: 'base' });
  const cmp: Record<SortKey, (a: DeviceRow, b: DeviceRow) => number> = {
    name: (a, b) => coll.compare(a.d.name, b.d.name),
    app: (a, b) => coll.compare(a.appName, b.appName) || coll.compare(a.d.name, b.d.name),
    transport: (a, b) => a.d.transport.localeCompare(b.d.transport) || coll.compare(a.d.name, b.d.name),
    status: (a, b) => STATUS_ORDER[a.status] - STATUS_ORDER[b.status] || coll.compare(a.d.name, b.d.name),
    lastSeen: (a, b) => (a.lastSeen ?? 0) - (b.lastSeen ?? 0),
    battery: byValue(battery),
    signal: byValue(rssi),
  };
  // Sorting by a latest value reads each device's value once a sort (devices without one first).
  const sortMemo = new Map<number, number>();
  function byValue(of: (r: DeviceRow) => LatestValue | null): (a: DeviceRow, b: DeviceRow) => number {
    const v = (r: DeviceRow) => {
      let x = sortMemo.get(r.d.id);
      if (x === undefined) { x = (of(r)?.value as number | undefined) ?? -Infinity; sortMemo.set(r.d.id, x); }
      return x;
    };
    return (a, b) => (v(a) === v(b) ? 0 : v(a) < v(b) ? -1 : 1) || coll.compare(a.d.name, b.d.name);
  }

  function apply(): void {
    const q = search.value.trim().toLowerCase();
    const app = appSel.value ? Number(appSel.value) : 0;
    const model = modelSel.value ? Number(modelSel.value) : 0;
    const tag = tagSel.value;
    const st = statusSel.value;
    const words = q ? q.split(/\s+/) : [];
    view = od.rows.filter((r) =>
      (!app || r.d.applicationId === app) && (!model || r.d.deviceModelId === model) && (!tag || r.d.tags.includes(tag)) &&
      (!st || r.status === st) && words.every((w) => r.search.includes(w)));
    const c = cmp[sortKey];
    sortMemo.clear();
    view.sort(sortDir > 0 ? c : (a, b) => c(b, a));
    count.textContent = t('devices.count', { shown: view.length, total: od.rows.length });
    grid.setAttribute('aria-rowcount', String(view.length + 1));
    spacer.style.height = `${view.length * ROW_H}px`;
    empty.hidden = view.length > 0;
    viewport.scrollTop = 0;
    drawRows();
  }

  function drawRows(): void {
    const first = Math.max(0, Math.floor(viewport.scrollTop / ROW_H) - 5);
    const n = Math.ceil((viewport.clientHeight || 600) / ROW_H) + 10;
    const slice = view.slice(first, first + n);
    rowsEl.style.transform = `translateY(${first * ROW_H}px)`;
    // Keep keyboard focus on the same device when rows are recycled.
    const focusedId = (document.activeElement?.closest('.vrow') as HTMLElement | null)?.dataset.id;
    rowsEl.replaceChildren(...slice.map((r, i) => h('div', {
      class: 'vrow', role: 'row', 'aria-rowindex': String(first + i + 2), 'data-id': String(r.d.id),
    },
    h('div', { role: 'cell', class: 'c-name' }, h('a', { href: `/devices/${r.d.id}` }, r.d.name)),
    h('div', { role: 'cell', class: 'c-app' }, r.appName),
    h('div', { role: 'cell', class: 'c-transport' }, tEnum('transport', r.d.transport)),
    h('div', { role: 'cell', class: 'c-status' }, badge(r.status)),
    cellBattery(r),
    h('div', { role: 'cell', class: 'c-signal' }, signalText(r)),
    h('div', { role: 'cell', class: 'c-lastSeen' }, fmtAgo(r.lastSeen)))));
    if (focusedId) rowsEl.querySelector<HTMLElement>(`.vrow[data-id="${focusedId}"] a`)?.focus({ preventScroll: true });
  }

  function cellBattery(r: DeviceRow): HTMLElement {
    const b = battery(r);
    const low = isLowBattery(b, r, rules);
    return h('div', { role: 'cell', class: low ? 'c-battery low-battery' : 'c-battery', 'data-low': low ? '' : null },
      show(b), low ? h('span', { class: 'sr-only' }, ` (${t('overview.lowBattery')})`) : null);
  }
  function signalText(r: DeviceRow): string {
    const s = rssi(r);
    const n = valueOf(od.latest.get(r.d.id), 'snr');
    return s && n ? `${show(s)} · ${show(n)}` : show(s ?? n);
  }

  // Tabbing onto a row at the edge scrolls it into view, which renders more rows.
  rowsEl.addEventListener('focusin', (e) => {
    const row = (e.target as Element).closest('.vrow') as HTMLElement | null;
    if (!row) return;
    const idx = Number(row.getAttribute('aria-rowindex')) - 2;
    const top = idx * ROW_H;
    if (top < viewport.scrollTop) viewport.scrollTop = top;
    else if (top + ROW_H > viewport.scrollTop + viewport.clientHeight) viewport.scrollTop = top + ROW_H - viewport.clientHeight;
  });
  let raf = 0;
  viewport.addEventListener('scroll', () => {
    if (raf) return;
    raf = requestAnimationFrame(() => { raf = 0; drawRows(); });
  });
  const syncUrl = () => {
    const p = new URLSearchParams();
    if (search.value) p.set('q', search.value);
    if (appSel.value) p.set('app', appSel.value);
    if (statusSel.value) p.set('status', statusSel.value);
    const s = p.toString();
    history.replaceState(null, '', s ? `/devices?${s}` : '/devices');
  };
  search.addEventListener('input', debounce(() => { apply(); syncUrl(); }, 120));
  search.addEventListener('change', () => { apply(); syncUrl(); });
  for (const s of [appSel, modelSel, tagSel, statusSel]) s.addEventListener('change', () => { apply(); syncUrl(); });
  const onResize = () => drawRows();
  window.addEventListener('resize', onResize);
  drawHead();
  apply();
  return () => window.removeEventListener('resize', onResize);
}
