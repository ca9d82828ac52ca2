// The CSV import's reading and checking (screens/import.ts shows it): the file's encoding, its rows
// as device bodies, and every row's problems before anything is created (issue 21 §2). Danish
// Excel saves "CSV (semikolonsepareret)" in Windows-1252 with ";" between fields and decimal commas.
import type { Device } from './api';
import { parseCsv } from './csv';

export type Encoding = 'utf-8' | 'windows-1252';

// Valid UTF-8 (with or without a byte order mark) is UTF-8; anything else is Windows-1252, which
// Danish Excel writes (æ ø å are single bytes 0xE6 0xF8 0xE5 there, invalid as UTF-8).
export function detectEncoding(bytes: Uint8Array): Encoding {
  if (bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf) return 'utf-8';
  try {
    new TextDecoder('utf-8', { fatal: true }).decode(bytes);
    return 'utf-8';
  } catch {
    return 'windows-1252';
  }
}

export function decodeBytes(bytes: Uint8Array, enc: Encoding): string {
  return new TextDecoder(enc).decode(bytes).replace(/^\uFEFF/, '');
}

// The columns, with the Danish names a coordinator may type instead.
const COLUMNS: Record<string, string[]> = {
  name: ['name', 'navn'],
  application: ['application', 'applikation', 'app', 'applicationid', 'appid'],
  transport: ['transport'],
  devEui: ['deveui'],
  lat: ['lat', 'breddegrad', 'latitude'],
  lon: ['lon', 'lng', 'længdegrad', 'longitude'],
  tags: ['tags', 'mærker'],
  expectedIntervalS: ['expectedintervals', 'interval'],
};
export const TEMPLATE_HEADER = ['name', 'application', 'transport', 'devEui', 'lat', 'lon', 'tags', 'expectedIntervalS'];

// A problem of a row: a catalogue key (import.err.*) and its values.
export interface RowError { key: string; vars?: Record<string, string> }

export interface ImportRow {
  line: number;           // the row's line in the file (the header is line 1)
  appId: number | null;
  appName: string;
  body: Partial<Device>;
  errors: RowError[];
}

export interface Known {
  apps: Array<{ id: number; name: string }>;
  devices: Array<{ name: string; applicationId: number; devEui?: string | null }>;
}

// "56,15" and "56.15" alike; NaN for anything else.
export function parseDecimal(s: string): number {
  const v = s.trim().replace(',', '.');
  return /^[-+]?(\d+\.?\d*|\.\d+)$/.test(v) ? Number(v) : NaN;
}

function rowOf(cells: string[], col: (k: string) => number, line: number, known: Known): ImportRow {
  const get = (k: string) => { const i = col(k); return i >= 0 ? (cells[i] ?? '').trim() : ''; };
  const errors: RowError[] = [];
  const appRef = get('application');
  const app = known.apps.find((a) => String(a.id) === appRef) ?? known.apps.find((a) => a.name.toLowerCase() === appRef.toLowerCase());
  if (!app) errors.push({ key: appRef ? 'import.err.app' : 'import.err.noApp', vars: { app: appRef } });
  const name = get('name');
  if (!name) errors.push({ key: 'import.err.name' });
  const transport = (get('transport') || 'http').toLowerCase();
  if (!['http', 'mqtt', 'lorawan'].includes(transport)) errors.push({ key: 'import.err.transport', vars: { value: transport } });
  const body: Partial<Device> = {
    name, transport: transport as Device['transport'],
    tags: get('tags').split(/[;,|]/).map((x) => x.trim()).filter(Boolean),
    location: null,
  };
  const eui = get('devEui').replace(/[\s:-]/g, '').toLowerCase();
  if (eui) {
    if (!/^[0-9a-f]{16}$/.test(eui)) errors.push({ key: 'import.err.devEui', vars: { value: get('devEui') } });
    body.devEui = eui;
  } else if (transport === 'lorawan') errors.push({ key: 'import.err.devEuiMissing' });
  const latS = get('lat');
  const lonS = get('lon');
  if (latS || lonS) {
    const lat = parseDecimal(latS);
    const lon = parseDecimal(lonS);
    if (!(lat >= -90 && lat <= 90) || !(lon >= -180 && lon <= 180)) {
      errors.push({ key: 'import.err.position', vars: { lat: latS, lon: lonS } });
    } else body.location = { lat, lon };
  }
  const iv = get('expectedIntervalS');
  if (iv) {
    const n = Number(iv);
    if (!Number.isInteger(n) || n <= 0) errors.push({ key: 'import.err.interval', vars: { value: iv } });
    else body.expectedIntervalS = n;
  }
  return { line, appId: app?.id ?? null, appName: app?.name ?? appRef, body, errors };
}

// The file's rows with their problems: the ones of each row alone, then names repeated within an
// application and DevEUIs repeated anywhere (in the file or among the organisation's devices).
export function readRows(text: string, known: Known): { rows: ImportRow[]; missing: string[] } {
  const cells = parseCsv(text);
  const header = (cells.shift() ?? []).map((x) => x.trim().toLowerCase());
  const col = (k: string) => header.findIndex((hd) => COLUMNS[k].includes(hd));
  const missing = ['name', 'application'].filter((k) => col(k) < 0);
  const rows = cells.map((c, i) => rowOf(c, col, i + 2, known));
  const nameKey = (appId: number | null, name: string) => `${appId}\u0000${name.toLowerCase()}`;
  const names = new Map<string, number>();
  const euis = new Map<string, number>();
  for (const d of known.devices) {
    names.set(nameKey(d.applicationId, d.name), 0);
    if (d.devEui) euis.set(d.devEui.toLowerCase(), 0);
  }
  for (const r of rows) {
    const n = r.body.name ? nameKey(r.appId, r.body.name) : '';
    if (n && r.appId !== null) {
      const first = names.get(n);
      if (first !== undefined) r.errors.push({ key: first ? 'import.err.nameTwice' : 'import.err.nameExists', vars: { line: String(first) } });
      else names.set(n, r.line);
    }
    const e = r.body.devEui;
    if (e) {
      const first = euis.get(e);
      if (first !== undefined) r.errors.push({ key: first ? 'import.err.devEuiTwice' : 'import.err.devEuiExists', vars: { line: String(first) } });
      else euis.set(e, r.line);
    }
  }
  return { rows, missing };
}
