// Session, current organisation and a cache of the organisation's devices
// with their computed status (ok / silent / alarm / maintenance / unknown).
import {
  api, optional, request, Alarm, AppLatest, Application, Device, DeviceModel, Org, Page, Role, Session,
} from './api';

export type Status = 'ok' | 'silent' | 'alarm' | 'maintenance' | 'unknown';

export interface DeviceRow {
  d: Device;
  status: Status;
  lastSeen: number | null; // ms
  appName: string;
  search: string; // lower-cased haystack for filtering
}

export interface OrgData {
  orgId: number;
  apps: Application[];
  models: DeviceModel[];
  rows: DeviceRow[];
  byId: Map<number, DeviceRow>;
  latest: Map<number, AppLatest>;
  alarms: Alarm[] | null; // null: the server has no alarms yet
  loadedAt: number;
}

export const state = {
  session: null as Session | null,
  orgs: [] as Org[],
  orgId: 0,
  data: null as OrgData | null,
  features: new Map<string, boolean>(),
};

const ORG_KEY = 'bysans.org';

export function role(): Role | null {
  const s = state.session;
  if (!s) return null;
  if (s.user.globalAdmin) return 'admin';
  return s.memberships.find((m) => m.orgId === state.orgId)?.role ?? null;
}
// A member with a role on some applications only (access per application): the screens of the
// whole organisation (rules, decoders, integrations, ...) are not theirs.
export function restricted(): boolean {
  const s = state.session;
  if (!s || s.user.globalAdmin) return false;
  return Array.isArray(s.memberships.find((m) => m.orgId === state.orgId)?.applications);
}
export function canEdit(): boolean { const r = role(); return r === 'editor' || r === 'admin'; }
// Acknowledge, comment, clear and silence alarms: operators, editors and admins.
export function canHandleAlarms(): boolean { const r = role(); return r === 'operator' || canEdit(); }
export function isAdmin(): boolean { return role() === 'admin'; }

export async function loadOrgs(): Promise<void> {
  state.orgs = await api.orgs();
  const saved = Number(localStorage.getItem(ORG_KEY));
  const ids = state.orgs.map((o) => o.id);
  state.orgId = ids.includes(saved) ? saved : ids[0] ?? 0;
}

export function setOrg(id: number): void {
  state.orgId = id;
  state.data = null;
  localStorage.setItem(ORG_KEY, String(id));
}

export function computeStatus(d: Device, lastSeen: number | null, inAlarm: boolean, now: number): Status {
  if (d.inMaintenance) return 'maintenance';
  if (inAlarm) return 'alarm';
  if (lastSeen === null) return 'unknown';
  const expected = (d.expectedIntervalS && d.expectedIntervalS > 0 ? d.expectedIntervalS : 3600) * 1000;
  // A device is silent once it has missed two expected reports (plus slack).
  return now - lastSeen <= expected * 2 + 60_000 ? 'ok' : 'silent';
}

// The time of a device's newest latest value (ms), null when it has none.
function newestTs(l: AppLatest): number | null {
  let newest: number | null = null;
  for (const r of Object.values(l.readings)) {
    const ts = Date.parse(r.ts);
    if (!Number.isNaN(ts) && (newest === null || ts > newest)) newest = ts;
  }
  return newest;
}

export function makeRows(
  devices: Device[], apps: Application[], latest: Map<number, AppLatest>, alarmDevices: Set<number>,
): DeviceRow[] {
  const appName = new Map(apps.map((a) => [a.id, a.name]));
  const now = Date.now();
  return devices.map((d) => {
    const l = latest.get(d.id);
    const lastSeen = l ? newestTs(l) : null;
    const an = appName.get(d.applicationId) ?? '';
    return {
      d, lastSeen, appName: an,
      status: computeStatus(d, lastSeen, alarmDevices.has(d.id), now),
      search: `${d.name} ${d.devEui ?? ''} ${d.tags.join(' ')} ${an} ${d.id}`.toLowerCase(),
    };
  });
}

// Probes an optional feature once per session; a 404 means "not yet".
export async function feature(name: string, path: string): Promise<boolean> {
  const known = state.features.get(name);
  if (known !== undefined) return known;
  const r = await optional<unknown>(path);
  state.features.set(name, r !== null);
  return r !== null;
}

export async function orgData(force = false): Promise<OrgData> {
  if (state.data && !force && state.data.orgId === state.orgId) return state.data;
  const orgId = state.orgId;
  const [apps, devices, models, alarmsPage] = await Promise.all([
    api.apps(orgId),
    api.devices(orgId),
    api.models(orgId).catch(() => [] as DeviceModel[]),
    state.features.get('alarms') === false ? Promise.resolve(null) : api.alarms(orgId, 'open'),
  ]);
  state.features.set('alarms', alarmsPage !== null);
  const latest = new Map<number, AppLatest>();
  const lists = await Promise.all(apps.map((a) => api.appLatest(a.id).catch(() => ({ items: [] as AppLatest[] }))));
  for (const l of lists) for (const item of l.items) latest.set(item.deviceId, item);
  const alarms = alarmsPage ? alarmsPage.items : null;
  const alarmDevices = new Set((alarms ?? []).map((a) => a.deviceId ?? 0));
  const rows = makeRows(devices, apps, latest, alarmDevices);
  const fresh: OrgData = {
    orgId, apps, models, rows, latest, alarms, loadedAt: Date.now(),
    byId: new Map(rows.map((r) => [r.d.id, r])),
  };
  // Read anew for the same organisation: the object screens already hold is updated in place,
  // so that they go on seeing what the live stream applies to it.
  if (state.data && state.data.orgId === orgId) Object.assign(state.data, fresh);
  else state.data = fresh;
  return state.data;
}

// --- Live updates over Server-Sent Events, read with fetch so that a server
// without the stream answers 404 quietly instead of an EventSource error.
// A lost connection is opened again (after 1 s, doubling up to 30 s); each time
// it opens, listeners get { type: 'open' } so that screens re-read what they show
// (events between their first read and the connection are not lost).
// <html data-live="open|closed"> tells whether the stream is connected.
type LiveListener = (ev: { type: string; data: unknown }) => void;
const liveListeners = new Set<LiveListener>();
let liveAbort: AbortController | null = null;
const LIVE_RETRY_MS = 1_000;
const LIVE_RETRY_MAX_MS = 30_000;

export function onLive(fn: LiveListener): () => void {
  liveListeners.add(fn);
  return () => liveListeners.delete(fn);
}

function emitLive(type: string, data: unknown): void {
  for (const fn of liveListeners) fn({ type, data });
}

function setLiveMark(open: boolean): void { document.documentElement.dataset.live = open ? 'open' : 'closed'; }

export function stopLive(): void { liveAbort?.abort(); liveAbort = null; setLiveMark(false); }

export async function startLive(): Promise<void> {
  stopLive();
  const ctrl = new AbortController();
  liveAbort = ctrl;
  let wait = LIVE_RETRY_MS;
  while (!ctrl.signal.aborted && state.session && state.orgId && state.features.get('stream') !== false) {
    const opened = await readLive(ctrl.signal);
    if (liveAbort === ctrl) setLiveMark(false);
    if (ctrl.signal.aborted || opened === 'gone') return;
    wait = opened === 'opened' ? LIVE_RETRY_MS : Math.min(wait * 2, LIVE_RETRY_MAX_MS);
    await new Promise((resolve) => window.setTimeout(resolve, wait));
  }
}

// One connection: 'opened' when it was connected (and has ended), 'failed' when it
// could not connect, 'gone' when the server has no stream or the session ended.
async function readLive(signal: AbortSignal): Promise<'opened' | 'failed' | 'gone'> {
  let opened = false;
  try {
    const res = await fetch(`/api/v1/organizations/${state.orgId}/stream`, {
      credentials: 'same-origin', headers: { Accept: 'text/event-stream' }, signal,
    });
    const ok = res.ok && (res.headers.get('content-type') ?? '').includes('text/event-stream');
    if (!ok || !res.body) {
      if (res.body) await res.body.cancel();
      if (res.status === 404) state.features.set('stream', false);
      return res.status === 404 || res.status === 401 ? 'gone' : 'failed';
    }
    state.features.set('stream', true);
    opened = true;
    liveSince = Date.now();
    liveTimes.length = 0;
    setLiveMark(true);
    emitLive('open', null);
    const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
    let buf = '';
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      buf += value;
      let idx: number;
      while ((idx = buf.indexOf('\n\n')) >= 0) {
        const block = buf.slice(0, idx);
        buf = buf.slice(idx + 2);
        let type = 'message';
        let data = '';
        for (const line of block.split('\n')) {
          if (line.startsWith('event:')) type = line.slice(6).trim();
          else if (line.startsWith('data:')) data += line.slice(5).trim();
        }
        if (!data) continue;
        let parsed: unknown = data;
        try { parsed = JSON.parse(data); } catch { /* keep text */ }
        applyLive(type, parsed);
        emitLive(type, parsed);
      }
    }
  } catch {
    /* aborted or connection lost: startLive decides whether to open it again */
  }
  return opened ? 'opened' : 'failed';
}

// Ingest rate seen on the live stream: reading events of the last minute.
const liveTimes: number[] = [];
let liveSince = 0;
export function liveRatePerMinute(): number | null {
  if (!liveSince) return null;
  const now = Date.now();
  while (liveTimes.length && liveTimes[0] < now - 60_000) liveTimes.shift();
  const span = Math.min(60_000, now - liveSince);
  if (span < 5_000) return null;
  return Math.round((liveTimes.length * 60_000) / span);
}

// Reads an application's latest values again into the organisation's data, with its devices'
// last-seen time and status: for screens whose stream has just (re)opened, since readings stored
// while it was down were never pushed. False when nothing was read (or the data was replaced).
export async function refreshAppLatest(appId: number): Promise<boolean> {
  const od = state.data;
  if (!od) return false;
  const fresh = await api.appLatest(appId).catch(() => null);
  if (!fresh || state.data !== od) return false;
  for (const item of fresh.items) {
    od.latest.set(item.deviceId, item);
    const row = od.byId.get(item.deviceId);
    if (!row) continue;
    const ts = newestTs(item);
    if (ts !== null && (row.lastSeen === null || ts > row.lastSeen)) row.lastSeen = ts;
    row.status = computeStatus(row.d, row.lastSeen, row.status === 'alarm', Date.now());
  }
  return true;
}

function applyLive(type: string, data: unknown): void {
  if (type === 'reading') {
    liveTimes.push(Date.now());
    if (liveTimes.length > 100_000) liveTimes.shift();
  }
  const od = state.data;
  if (!od || typeof data !== 'object' || data === null) return;
  if (type === 'alarm') {
    // Device status follows its alarms; lists re-read the alarms themselves.
    const a = data as { deviceId?: number; state?: string };
    const row = a.deviceId ? od.byId.get(a.deviceId) : undefined;
    if (row) row.status = computeStatus(row.d, row.lastSeen, a.state !== 'cleared', Date.now());
    return;
  }
  const ev = data as { deviceId?: number; key?: string; ts?: string; value?: unknown; unit?: string };
  if ((type === 'reading' || type === 'message') && ev.deviceId && ev.key && ev.ts) {
    const row = od.byId.get(ev.deviceId);
    if (!row) return;
    const l = od.latest.get(ev.deviceId) ?? { deviceId: ev.deviceId, deviceName: row.d.name, readings: {} };
    l.readings[ev.key] = { value: ev.value, ts: ev.ts, unit: ev.unit };
    od.latest.set(ev.deviceId, l);
    const ts = Date.parse(ev.ts);
    if (!Number.isNaN(ts) && (row.lastSeen === null || ts > row.lastSeen)) row.lastSeen = ts;
    row.status = computeStatus(row.d, row.lastSeen, row.status === 'alarm', Date.now());
  }
}

export async function alarmsPage(state_: string): Promise<Page<import('./api').Alarm> | null> {
  return optional<Page<import('./api').Alarm>>(
    `/api/v1/organizations/${state.orgId}/alarms?state=${encodeURIComponent(state_)}&limit=200`);
}

export { request };
