// Devices from a CSV file (editors): the encoding detected (or chosen), every row checked in a
// preview before anything is created, a template to download, and the created devices' keys shown
// once and downloadable (importRows.ts reads and checks; this screen shows and creates).
import { h, field } from '../dom';
import { api, Device } from '../api';
import { t } from '../i18n';
import { orgData, canEdit, state } from '../state';
import { toCsv, csvNumber, saveFile } from '../csv';
import { title, notice, errorText, table } from '../ui';
import { detectEncoding, decodeBytes, readRows, Encoding, ImportRow, TEMPLATE_HEADER } from '../importRows';

interface Created { name: string; id: number; apiKey: string; mqttUser: string; mqttPassword: string }

function templateCsv(appName: string): string {
  return toCsv([TEMPLATE_HEADER,
    [t('import.templateName1'), appName, 'http', '', csvNumber(56.1572), csvNumber(10.2107), t('import.templateTags'), '600'],
    [t('import.templateName2'), appName, 'lorawan', '70b3d57ed0000001', csvNumber(56.1629), csvNumber(10.2039), '', '900']]);
}

function keysCsv(created: Created[]): string {
  const mqtt = created.some((c) => c.mqttPassword);
  const head = ['name', 'id', 'apiKey', ...(mqtt ? ['mqttUsername', 'mqttPassword'] : [])];
  return toCsv([head, ...created.map((c) => [c.name, String(c.id), c.apiKey, ...(mqtt ? [c.mqttUser, c.mqttPassword] : [])])]);
}

export async function importScreen(root: HTMLElement): Promise<void> {
  root.appendChild(title(t('import.title')));
  if (!canEdit()) { root.appendChild(notice(t('admin.noAccess'), 'error')); return; }
  const od = await orgData();
  const file = h('input', { type: 'file', accept: '.csv,text/csv,text/plain', id: 'csv-file' });
  const encoding = h('select', { id: 'csv-encoding' },
    h('option', { value: 'auto' }, t('import.encAuto')), h('option', { value: 'utf-8' }, 'UTF-8'),
    h('option', { value: 'windows-1252' }, t('import.encWindows')));
  const template = h('button', {
    type: 'button', class: 'secondary', id: 'csv-template',
    onclick: () => saveFile(new Blob([templateCsv(od.apps[0]?.name ?? '')], { type: 'text/csv;charset=utf-8' }), t('import.templateFile')),
  }, t('import.template'));
  const start = h('button', { type: 'button', disabled: true, id: 'csv-start' }, t('import.start'));
  const status = h('p', { 'aria-live': 'polite', id: 'csv-status' });
  const progress = h('progress', { max: '1', value: '0', id: 'csv-progress', 'aria-label': t('import.progress') });
  const preview = h('div', { id: 'csv-preview' });
  const report = h('div', { id: 'csv-report' });
  let rows: ImportRow[] = [];
  let chosen = new Set<number>();
  let bytes: Uint8Array | null = null;

  const selectedBad = () => rows.filter((r) => chosen.has(r.line) && r.errors.length > 0).length;
  const refreshStart = () => {
    const bad = selectedBad();
    start.disabled = chosen.size === 0 || bad > 0;
    status.textContent = bad > 0 ? t('import.fixOrDeselect', { n: bad }) : t('import.ready', { n: chosen.size });
  };

  const drawPreview = () => {
    const box = (r: ImportRow) => {
      const c = h('input', {
        type: 'checkbox', checked: chosen.has(r.line), 'data-line': String(r.line),
        'aria-label': t('import.include', { line: r.line }),
      });
      c.addEventListener('change', () => { if (c.checked) chosen.add(r.line); else chosen.delete(r.line); refreshStart(); });
      return c;
    };
    const where = (d: Partial<Device>) => (d.location ? `${csvNumber(d.location.lat)}; ${csvNumber(d.location.lon)}` : '');
    preview.replaceChildren(table(t('import.preview'),
      [t('import.include.col'), t('import.row'), t('devices.name'), t('form.app'), t('form.transport'), 'DevEUI', t('import.position'), t('import.error')],
      rows.map((r) => [box(r), String(r.line), r.body.name ?? '', r.appName, t(`transport.${r.body.transport}`), r.body.devEui ?? '', where(r.body),
        r.errors.length ? h('ul', { class: 'row-errors', 'data-errors': String(r.line) }, r.errors.map((e) => h('li', null, t(e.key, e.vars))))
          : h('span', { class: 'ok-mark' }, t('import.rowOk'))]), 'import-preview cards'));
  };

  const load = async () => {
    report.replaceChildren();
    preview.replaceChildren();
    if (!bytes) return;
    const now = await orgData();  // re-read after an import: its devices now exist
    const known = { apps: now.apps, devices: now.rows.map((r) => r.d) };
    const detected = detectEncoding(bytes);
    const enc = encoding.value === 'auto' ? detected : (encoding.value as Encoding);
    const read = readRows(decodeBytes(bytes, enc), known);
    rows = read.rows;
    chosen = new Set(rows.map((r) => r.line));
    const encNote = h('p', { id: 'csv-encoding-used', 'data-encoding': enc },
      t('import.encUsed', { enc: enc === 'utf-8' ? 'UTF-8' : 'Windows-1252' }),
      encoding.value === 'auto' ? ` ${t('import.encDetected')}` : '');
    if (read.missing.length) {
      preview.replaceChildren(encNote, notice(t('import.missingColumns', { cols: read.missing.join(', ') }), 'error'));
      rows = [];
      chosen.clear();
      refreshStart();
      return;
    }
    drawPreview();
    preview.prepend(encNote);
    refreshStart();
  };

  file.addEventListener('change', async () => {
    const f = file.files?.[0];
    bytes = f ? new Uint8Array(await f.arrayBuffer()) : null;
    await load();
  });
  encoding.addEventListener('change', () => { void load(); });

  start.addEventListener('click', async () => {
    start.disabled = true;
    file.disabled = true;
    encoding.disabled = true;
    const todo = rows.filter((r) => chosen.has(r.line));
    const failed: Array<{ r: ImportRow; error: string }> = [];
    const created: Created[] = [];
    let done = 0;
    progress.max = Math.max(1, todo.length);
    progress.value = 0;
    const queue = [...todo];
    const worker = async () => {
      for (let r = queue.shift(); r; r = queue.shift()) {
        try {
          const d = await api.createDevice(r.appId ?? 0, r.body) as Device & { mqtt?: { username: string; password: string } };
          if (d.apiKey || d.mqtt) {
            created.push({ name: d.name, id: d.id, apiKey: d.apiKey ?? '', mqttUser: d.mqtt?.username ?? '', mqttPassword: d.mqtt?.password ?? '' });
          }
        } catch (e) { failed.push({ r, error: errorText(e) }); }
        done += 1;
        progress.value = done;
        status.textContent = `${done} / ${todo.length}`;
      }
    };
    await Promise.all([worker(), worker(), worker(), worker()]);
    status.textContent = t('import.done', { ok: todo.length - failed.length, failed: failed.length });
    preview.replaceChildren();
    state.data = null;
    created.sort((a, b) => a.id - b.id);
    report.replaceChildren(
      failed.length ? table(t('import.error'), [t('import.row'), t('devices.name'), t('import.error')],
        failed.map((x) => [String(x.r.line), x.r.body.name ?? '', x.error])) : '',
      created.length ? h('div', { class: 'notice warn', role: 'status', id: 'csv-keys' },
        h('p', null, h('strong', null, t('import.keysOnce'))),
        h('button', {
          type: 'button', id: 'csv-keys-download',
          onclick: () => saveFile(new Blob([keysCsv(created)], { type: 'text/csv;charset=utf-8' }), t('import.keysFile')),
        }, t('import.keysDownload')),
        table(t('import.keys'), [t('devices.name'), 'ID', t('import.secret')],
          created.map((c) => [c.name, String(c.id), h('code', { class: 'secret' }, c.apiKey || `${c.mqttUser} / ${c.mqttPassword}`)]), 'import-keys')) : '');
    file.value = '';
    bytes = null;
    rows = [];
    file.disabled = false;
    encoding.disabled = false;
  });

  root.appendChild(h('div', { class: 'card' },
    h('p', null, t('import.help')),
    h('p', null, template),
    h('div', { class: 'row' }, field(t('import.file'), file), field(t('import.encoding'), encoding)),
    preview, start, progress, status, report));
}
