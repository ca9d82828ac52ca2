// Comparison of an application's devices (issue 21 §4): one row per device with its latest CO₂,
// temperature, humidity, battery, signal and when it was last seen, each value coloured against
// the limits of the rules that watch the device (data-level: critical / warning / info / ok),
// sortable by any column, exported as CSV for Danish Excel or as .xlsx; under it a chart of one
// quantity for several devices (compareChart.ts). Reads what the other screens read: the
// application's latest values (GET /applications/{id}/latest, via orgData) and the rules.
import { h, field } from '../dom';
import { t, fmtNum, fmtAgo, fmtDate, locale } from '../i18n';
import { AppLatest, Application } from '../api';
import { orgData, onLive, refreshAppLatest, state, DeviceRow } from '../state';
import { title, section, notice } from '../ui';
import { ruleLimits, ruleWatches, RuleForChart, wallClockMs } from '../chart';
import { QUANTITIES, Quantity, LatestValue, Level, levelOf, orgRules, valueOf } from '../health';
import { toCsv, csvNumber, saveFile } from '../csv';
import { xlsxBlob, excelDate, XlsxCell } from '../xlsx';
import { multiChart } from './compareChart';

type Col = 'name' | Quantity | 'lastSeen';

interface Cell { v: LatestValue | null; level: Level; rule?: string }
interface Row { r: DeviceRow; cells: Map<Quantity, Cell> }

const LEVEL_MARK: Record<string, string> = { critical: '⬣', warning: '▲', info: 'ℹ' };

// The quantities some device of the application has, in the table's order.
function presentQuantities(rows: DeviceRow[], latest: Map<number, AppLatest>): Quantity[] {
  return QUANTITIES.map((x) => x.q).filter((q) => rows.some((r) => valueOf(latest.get(r.d.id), q)));
}

export function buildRows(rows: DeviceRow[], latest: Map<number, AppLatest>, rules: RuleForChart[],
  qs: Quantity[]): Row[] {
  return rows.map((r) => {
    const cells = new Map<Quantity, Cell>();
    const watching = rules.filter((x) => ruleWatches(x, r.d));  // once a device, not once a value
    for (const q of qs) {
      const v = valueOf(latest.get(r.d.id), q);
      cells.set(q, v ? { v, ...levelOf(v.value as number, ruleLimits(watching, r.d, v.key)) } : { v: null, level: null });
    }
    return { r, cells };
  });
}

// A column's heading: the quantity's name and the unit most of its values have.
function heading(col: Col, rows: Row[]): string {
  if (col === 'name') return t('compare.device');
  if (col === 'lastSeen') return t('devices.lastSeen');
  const units = new Map<string, number>();
  for (const x of rows) {
    const u = x.cells.get(col)?.v?.unit;
    if (u) units.set(u, (units.get(u) ?? 0) + 1);
  }
  const unit = [...units.entries()].sort((a, b) => b[1] - a[1])[0]?.[0];
  const name = t(`compare.q.${col}`);
  return unit ? `${name} (${unit})` : name;
}

function sorter(col: Col, dir: number): (a: Row, b: Row) => number {
  const coll = new Intl.Collator(locale(), { numeric: true, sensitivity: 'base' });
  const byName = (a: Row, b: Row) => coll.compare(a.r.d.name, b.r.d.name);
  if (col === 'name') return (a, b) => dir * byName(a, b);
  const num = (x: Row): number | null => (col === 'lastSeen' ? x.r.lastSeen
    : (x.cells.get(col)?.v?.value as number | undefined) ?? null);
  // Devices without the value come last whichever way the column is sorted.
  return (a, b) => {
    const va = num(a);
    const vb = num(b);
    if (va === null || vb === null) return va === vb ? byName(a, b) : va === null ? 1 : -1;
    return dir * (va - vb) || byName(a, b);
  };
}

function valueCell(c: Cell | undefined, label: string): HTMLElement {
  if (!c?.v) return h('td', { 'data-label': label, class: 'num' }, '–');
  const value = c.v.value as number;
  const text = `${fmtNum(value)}${c.v.unit ? ` ${c.v.unit}` : ''}`;
  const mark = c.level && c.level !== 'ok' ? LEVEL_MARK[c.level] : '';
  return h('td', {
    'data-label': label, class: `num${c.level ? ` lv-${c.level}` : ''}`, 'data-key': c.v.key,
    'data-level': c.level ?? null, 'data-value': String(value),
    title: c.rule ? t('compare.breaches', { rule: c.rule }) : null,
  }, mark ? h('span', { class: 'lv-mark', 'aria-hidden': 'true' }, mark) : null, text,
  c.rule ? h('span', { class: 'sr-only' }, ` (${t('compare.breaches', { rule: c.rule })})`) : null);
}

function exportRows(cols: Col[], heads: string[], rows: Row[]): { csv: string[][]; xlsx: XlsxCell[][] } {
  const csv: string[][] = [heads];
  const xlsx: XlsxCell[][] = [heads];
  for (const x of rows) {
    const c: string[] = [];
    const xl: XlsxCell[] = [];
    for (const col of cols) {
      if (col === 'name') { c.push(x.r.d.name); xl.push(x.r.d.name); continue; }
      if (col === 'lastSeen') {
        const wall = x.r.lastSeen === null ? null : wallClockMs(x.r.lastSeen);
        c.push(wall === null ? '' : new Date(wall).toISOString().slice(0, 19).replace('T', ' '));
        xl.push(wall === null ? null : { date: excelDate(wall) });
        continue;
      }
      const v = x.cells.get(col)?.v?.value as number | undefined;
      c.push(v === undefined ? '' : csvNumber(v));
      xl.push(v ?? null);
    }
    csv.push(c);
    xlsx.push(xl);
  }
  return { csv, xlsx };
}

function fileBase(app: Application): string {
  const day = new Date(wallClockMs(Date.now())).toISOString().slice(0, 10);
  const name = app.name.normalize('NFKD').replace(/[^\w-]+/g, '-').replace(/^-+|-+$/g, '').toLowerCase();
  return `${t('compare.fileName')}-${name || app.id}-${day}`;
}

export async function compareScreen(root: HTMLElement): Promise<() => void> {
  root.appendChild(title(t('compare.title')));
  const [od, rules] = await Promise.all([orgData(), orgRules(state.orgId)]);
  if (!od.apps.length) { root.appendChild(notice(t('compare.noApps'))); return () => {}; }
  const params = new URLSearchParams(location.search);
  const appSel = h('select', { id: 'compare-app' }, od.apps.map((a) => h('option', { value: String(a.id) }, a.name)));
  appSel.value = od.apps.some((a) => String(a.id) === params.get('app')) ? String(params.get('app')) : String(od.apps[0].id);
  const sortSel = h('select', { id: 'compare-sort' });
  const csvBtn = h('button', { type: 'button', id: 'compare-csv', class: 'secondary' }, t('compare.csv'));
  const xlsxBtn = h('button', { type: 'button', id: 'compare-xlsx', class: 'secondary' }, t('compare.xlsx'));
  const count = h('p', { class: 'count', id: 'compare-count', 'aria-live': 'polite' });
  const tableBox = h('div', { class: 'table-wrap compare-wrap', tabindex: '0', role: 'region', 'aria-label': t('compare.title') });
  const chartBox = h('div');
  root.append(
    h('div', { class: 'row filters' }, field(t('devices.app'), appSel),
      h('div', { class: 'phone-only' }, field(t('compare.sortBy'), sortSel)),
      h('div', { class: 'actions' }, csvBtn, xlsxBtn)),
    count, tableBox, section(t('compare.chart'), chartBox));

  let col: Col = (params.get('sort') as Col | null) ?? 'name';
  let dir = params.get('dir') === 'desc' ? -1 : 1;
  let rows: Row[] = [];
  let cols: Col[] = [];
  let heads: string[] = [];
  let app = od.apps[0];
  let destroyChart: () => void = () => {};
  let chartSeq = 0;

  // Only the rows in view are in the DOM (as in the device list), between two spacer rows that
  // keep the scroll height: 1,000 devices render in milliseconds. Rows are one line high (a card
  // of one line per column on a phone); the height is measured from the rows drawn.
  let sorted: Row[] = [];
  let rowH = 44;
  const tbody = h('tbody');
  const thead = h('thead');
  const table = h('table', { id: 'compare-table', class: 'cards compare' },
    h('caption', { class: 'sr-only' }), thead, tbody);
  tableBox.replaceChildren(table);
  const spacer = (px: number): HTMLTableRowElement | null => {
    if (px <= 0) return null;
    const tr = h('tr', { class: 'spacer', 'aria-hidden': 'true' }, h('td', { colspan: String(cols.length) }));
    tr.style.height = `${px}px`;  // through the CSSOM: the CSP allows no style attributes
    return tr;
  };
  const rowEl = (x: Row, index: number) => h('tr', { 'data-id': String(x.r.d.id), 'aria-rowindex': String(index + 2) },
    cols.map((c, i) => {
      if (c === 'name') return h('td', { 'data-label': heads[i] }, h('a', { href: `/devices/${x.r.d.id}` }, x.r.d.name));
      if (c === 'lastSeen') {
        const silent = x.r.status === 'silent';
        return h('td', {
          'data-label': heads[i], class: silent ? 'lv-warning' : null, 'data-level': silent ? 'warning' : null,
          title: x.r.lastSeen ? fmtDate(x.r.lastSeen) : null,
        }, silent ? h('span', { class: 'lv-mark', 'aria-hidden': 'true' }, LEVEL_MARK.warning) : null, fmtAgo(x.r.lastSeen));
      }
      return valueCell(x.cells.get(c), heads[i]);
    }));
  const drawRows = () => {
    const first = Math.max(0, Math.floor(tableBox.scrollTop / rowH) - 5);
    const n = Math.ceil((tableBox.clientHeight || 600) / rowH) + 10;
    const slice = sorted.slice(first, first + n);
    tbody.replaceChildren(...[spacer(first * rowH), ...slice.map((x, i) => rowEl(x, first + i)),
      spacer((sorted.length - first - slice.length) * rowH)].filter((x): x is HTMLTableRowElement => !!x));
    // Rows as high as drawn (a card on a phone): measured, and drawn again when it changed.
    const drawn = tbody.querySelectorAll<HTMLElement>('tr[data-id]');
    const h2 = drawn.length > 1 ? drawn[1].offsetTop - drawn[0].offsetTop : drawn[0]?.offsetHeight;
    if (h2 && Math.abs(h2 - rowH) > 1) { rowH = h2; drawRows(); }
  };
  const drawTable = (keepScroll = false) => {
    const t0 = performance.now();
    sorted = [...rows].sort(sorter(col, dir));
    thead.replaceChildren(h('tr', { 'aria-rowindex': '1' }, cols.map((c, i) => h('th', {
      scope: 'col', class: c === 'name' ? null : 'num', 'aria-sort': col === c ? (dir > 0 ? 'ascending' : 'descending') : null,
    }, h('button', {
      type: 'button', class: 'sort', 'data-col': c, 'aria-label': t('devices.sortBy', { col: heads[i] }),
      onclick: () => { if (col === c) dir = -dir; else { col = c; dir = 1; } drawTable(); },
    }, heads[i], col === c ? (dir > 0 ? ' ▲' : ' ▼') : '')))));
    table.caption!.textContent = t('compare.caption', { app: app.name });
    table.setAttribute('aria-rowcount', String(sorted.length + 1));
    if (!keepScroll) tableBox.scrollTop = 0;
    drawRows();
    sortSel.replaceChildren(...cols.flatMap((c, i) => [1, -1].map((d) => h('option', { value: `${c}:${d}` },
      `${heads[i]} ${d > 0 ? '▲' : '▼'}`))));
    sortSel.value = `${col}:${dir}`;
    const q = new URLSearchParams({ app: String(app.id) });
    if (col !== 'name') q.set('sort', col);
    if (dir < 0) q.set('dir', 'desc');
    history.replaceState(null, '', `/compare?${q}`);
    table.dataset.renderMs = (performance.now() - t0).toFixed(1);
  };
  let raf = 0;
  tableBox.addEventListener('scroll', () => {
    if (!raf) raf = requestAnimationFrame(() => { raf = 0; drawRows(); });
  });

  const load = () => {
    app = od.apps.find((a) => String(a.id) === appSel.value) ?? od.apps[0];
    const devices = od.rows.filter((r) => r.d.applicationId === app.id);
    const qs = presentQuantities(devices, od.latest);
    cols = ['name', ...qs, 'lastSeen'];
    if (!cols.includes(col)) { col = 'name'; dir = 1; }
    rows = buildRows(devices, od.latest, rules, qs);
    heads = cols.map((c) => heading(c, rows));
    count.textContent = t('compare.count', { n: rows.length });
    drawTable();
    destroyChart();
    // The chart (its device list, its requests) after the table is on screen.
    const my = ++chartSeq;
    requestAnimationFrame(() => window.setTimeout(() => {
      if (my !== chartSeq || !chartBox.isConnected) return;
      const chart = multiChart(devices, od.latest, rules, qs);
      chartBox.replaceChildren(chart.el);
      destroyChart = chart.destroy;
    }));
  };

  sortSel.addEventListener('change', () => {
    const [c, d] = sortSel.value.split(':');
    col = c as Col;
    dir = Number(d);
    drawTable();
  });
  appSel.addEventListener('change', load);
  const exported = () => exportRows(cols, heads, [...rows].sort(sorter(col, dir)));
  csvBtn.addEventListener('click', () => saveFile(new Blob([toCsv(exported().csv)], { type: 'text/csv;charset=utf-8' }),
    `${fileBase(app)}.csv`));
  xlsxBtn.addEventListener('click', () => saveFile(xlsxBlob(app.name, exported().xlsx), `${fileBase(app)}.xlsx`));
  load();
  const onResize = () => drawRows();
  window.addEventListener('resize', onResize);
  // Live: new readings and alarms of the application's devices (the stream keeps `od` current)
  // redraw the values, at most every 2 s, where the user has scrolled to. Each time the stream
  // (re)opens, the application's latest values are read again: readings stored while it was
  // down were never pushed.
  let pending = 0;
  // The organisation's data as the stream keeps it: a reload updates it in place, but a screen
  // that changed devices drops it (state.data = null) and the next orgData() makes a new one,
  // which alone gets the live events.
  const current = () => (state.data && state.data.orgId === od.orgId ? state.data : od);
  const redraw = () => {
    const cur = current();
    rows = buildRows(rows.map((x) => cur.byId.get(x.r.d.id) ?? x.r), cur.latest, rules,
      cols.filter((c): c is Quantity => c !== 'name' && c !== 'lastSeen'));
    drawTable(true);
  };
  const reread = async () => {
    const shown = app;
    if ((await refreshAppLatest(shown.id)) && shown === app) redraw();
  };
  const off = onLive((ev) => {
    if (ev.type === 'open') { void reread(); return; }
    const id = (ev.data as { deviceId?: number } | null)?.deviceId;
    if (pending || !id || current().byId.get(id)?.d.applicationId !== app.id) return;
    pending = window.setTimeout(() => { pending = 0; redraw(); }, 2000);
  });
  return () => { off(); window.clearTimeout(pending); destroyChart(); window.removeEventListener('resize', onResize); };
}
