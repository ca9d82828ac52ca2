import { h, field } from '../dom';
import { api, Device } from '../api';
import { t } from '../i18n';
import { orgData, canEdit, state } from '../state';
import { parseCsv } from '../csv';
import { title, notice, errorText, table } from '../ui';

interface Row { line: number; appId: number | null; appRef: string; body: Partial<Device>; error?: string }

export async function importScreen(root: HTMLElement): Promise<void> {
  root.appendChild(title(t('import.title')));
  if (!canEdit()) { root.appendChild(notice(t('admin.noAccess'), 'error')); return; }
  const od = await orgData();
  const file = h('input', { type: 'file', accept: '.csv,text/csv', id: 'csv-file' });
  const start = h('button', { type: 'button', disabled: true, id: 'csv-start' }, t('import.start'));
  const status = h('p', { 'aria-live': 'polite', id: 'csv-status' });
  const progress = h('progress', { max: '1', value: '0', id: 'csv-progress', 'aria-label': t('import.progress') });
  const report = h('div', { id: 'csv-report' });
  let rows: Row[] = [];

  file.addEventListener('change', async () => {
    report.replaceChildren();
    const f = file.files?.[0];
    if (!f) return;
    const cells = parseCsv(await f.text());
    const header = (cells.shift() ?? []).map((x) => x.trim().toLowerCase());
    const col = (name: string) => header.indexOf(name.toLowerCase());
    const byName = new Map(od.apps.map((a) => [a.name.toLowerCase(), a.id]));
    const ids = new Set(od.apps.map((a) => a.id));
    rows = cells.map((c, i) => {
      const get = (n: string) => { const k = col(n); return k >= 0 ? (c[k] ?? '').trim() : ''; };
      const appRef = get('application') || get('applicationid') || get('app') || get('appid');
      const appId = ids.has(Number(appRef)) ? Number(appRef) : byName.get(appRef.toLowerCase()) ?? null;
      const lat = get('lat');
      const lon = get('lon');
      const body: Partial<Device> = {
        name: get('name'),
        transport: (get('transport') || 'http') as Device['transport'],
        tags: get('tags').split(/[;|]/).map((x) => x.trim()).filter(Boolean),
        location: lat && lon ? { lat: Number(lat.replace(',', '.')), lon: Number(lon.replace(',', '.')) } : null,
      };
      const eui = get('deveui');
      if (eui) body.devEui = eui.toLowerCase();
      const iv = get('expectedintervals');
      if (iv) body.expectedIntervalS = Number(iv);
      const row: Row = { line: i + 2, appId, appRef, body };
      if (appId === null) row.error = t('import.noApp', { app: appRef });
      else if (!body.name) row.error = 'name';
      return row;
    });
    status.textContent = t('import.parsed', { n: rows.length });
    start.disabled = rows.length === 0;
  });

  start.addEventListener('click', async () => {
    start.disabled = true;
    file.disabled = true;
    let done = 0;
    let ok = 0;
    progress.max = Math.max(1, rows.length);
    progress.value = 0;
    const queue = [...rows];
    const worker = async () => {
      for (let r = queue.shift(); r; r = queue.shift()) {
        if (!r.error && r.appId !== null) {
          try { await api.createDevice(r.appId, r.body); ok += 1; } catch (e) { r.error = errorText(e); }
        }
        done += 1;
        progress.value = done;
        status.textContent = `${done} / ${rows.length}`;
      }
    };
    await Promise.all([worker(), worker(), worker(), worker()]);
    const failed = rows.filter((r) => r.error);
    status.textContent = t('import.done', { ok, failed: failed.length });
    if (failed.length) {
      report.replaceChildren(table(t('import.error'), [t('import.row'), t('devices.name'), t('import.error')],
        failed.map((r) => [String(r.line), r.body.name ?? '', r.error ?? ''])));
    }
    state.data = null;
    file.disabled = false;
  });

  root.appendChild(h('div', { class: 'card' },
    h('p', null, t('import.help')),
    field(t('import.file'), file), start, progress, status, report));
}
