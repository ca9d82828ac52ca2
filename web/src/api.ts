// The REST client. Every call goes through request(): JSON in/out, the
// session cookie, one error type. A 401 anywhere sends the user back to
// the login screen with a message (session expiry).
export interface ApiErrorBody { error?: { code?: string; message?: string } }

export class ApiError extends Error {
  constructor(public status: number, public code: string, message: string) {
    super(message);
  }
}

export interface Page<T> { items: T[]; total: number; limit: number; offset: number }

export interface User { id: number; email: string; name: string; globalAdmin: boolean }
// applications: null = the whole organisation; a list = those applications only.
export interface Membership { orgId: number; role: Role; applications?: number[] | null }
export type Role = 'viewer' | 'operator' | 'editor' | 'admin';
export interface Session { user: User; memberships: Membership[] }
export interface Org { id: number; name: string }
export interface Application { id: number; orgId: number; name: string; description: string }
export interface Device {
  id: number; orgId: number; applicationId: number; name: string;
  transport: 'http' | 'mqtt' | 'lorawan'; devEui?: string | null;
  location: { lat: number; lon: number } | null; tags: string[];
  metadata: Record<string, unknown>; deviceModelId?: number | null;
  expectedIntervalS?: number | null; inMaintenance?: boolean; createdAt?: string;
  apiKey?: string;
}
export interface Reading { key: string; ts: string; value: unknown; unit?: string; quality?: string }
export interface Bucket { ts: string; avg: number | null; min: number | null; max: number | null; count: number }
export interface AppLatest {
  deviceId: number; deviceName: string;
  readings: Record<string, { value: unknown; ts: string; unit?: string; quality?: string }>;
}
export interface Message {
  id: number; receivedAt: string; transport: string; contentType: string; payload: string;
  payloadEncoding: string; decodeStatus: string; decodeError?: string | null;
  decodeErrors?: string[]; decodeWarnings?: string[];
}
export interface DeviceModel { id: number; name: string; doc?: unknown }
export interface Member { userId: number; email: string; name: string; role: Role; applications: number[] | null }
export interface Invitation {
  id: number; orgId: number; orgName?: string; email: string; role: Role; expiresAt: string;
  applications?: number[] | null;  // null: the whole organisation
}
export interface ApiKey { id: number; name: string; role: Role; expiresAt?: string | null; createdAt?: string; key?: string }
export interface AuditEntry {
  ts: string; action: string; objectType: string; objectId: string; userId?: number | null;
  remoteAddr?: string; detail?: string;
}
export interface Alarm {
  id: number; deviceId?: number; deviceName?: string; ruleName?: string; severity?: string;
  // A gateway rule's alarm (issue 20): the organisation's gateway, deviceId 0.
  gatewayId?: string | null;
  state?: string; message?: string; raisedAt?: string; ts?: string; acknowledgedAt?: string | null;
  acknowledgedBy?: string | null; acknowledgeComment?: string; clearedAt?: string | null; clearedBy?: string | null;
  // The two dimensions (server ≥ issue 21): cleared or not, acknowledged or not; a cleared alarm whose rule
  // requires acknowledgement stays open until a person acknowledges it.
  cleared?: boolean; acknowledged?: boolean; awaitingAcknowledge?: boolean; open?: boolean;
  clearComment?: string;
}

// A LoRaWAN gateway's health (issue 20): from ChirpStack's gateway events and the uplinks it carried.
export interface Gateway {
  gatewayId: string; online: boolean | null; stateSince: string | null; firstSeen: string | null;
  lastSeen: string | null; uplinks: number; location: { latitude: number; longitude: number; altitude: number } | null;
}
export interface GatewayStateChange { time: string; online: boolean }
export interface GatewayStats {
  start: string; rxPacketsReceived: number; rxPacketsReceivedOk: number; txPacketsReceived: number; txPacketsEmitted: number;
}
export interface HeardDevice {
  deviceId: number; name: string; devEui: string; rssi: number | null; snr: number | null; lastSeen: string; uplinks: number;
}

type UnauthorizedHandler = () => void;
let onUnauthorized: UnauthorizedHandler = () => {};
export function setUnauthorizedHandler(fn: UnauthorizedHandler): void { onUnauthorized = fn; }

export interface RequestOptions { method?: string; body?: unknown; quiet404?: boolean; no401?: boolean }

export async function request<T>(path: string, opts: RequestOptions = {}): Promise<T> {
  const init: RequestInit = {
    method: opts.method ?? 'GET',
    credentials: 'same-origin',
    headers: { Accept: 'application/json' },
  };
  // Every write says application/json, with or without a body: the server
  // refuses cookie-authenticated writes without it (CSRF defence).
  if (opts.body !== undefined || init.method !== 'GET') {
    (init.headers as Record<string, string>)['Content-Type'] = 'application/json';
  }
  if (opts.body !== undefined) init.body = JSON.stringify(opts.body);
  let res: Response;
  try {
    res = await fetch(path, init);
  } catch (e) {
    throw new ApiError(0, 'network', String(e));
  }
  if (res.status === 401 && !opts.no401) {
    onUnauthorized();
    throw new ApiError(401, 'unauthenticated', 'session expired');
  }
  if (!res.ok) {
    let code = `http_${res.status}`;
    let message = res.statusText;
    try {
      const b = (await res.json()) as ApiErrorBody;
      if (b.error) { code = b.error.code ?? code; message = b.error.message ?? message; }
    } catch { /* not JSON */ }
    throw new ApiError(res.status, code, message);
  }
  if (res.status === 204) return undefined as T;
  const text = await res.text();
  return (text ? JSON.parse(text) : undefined) as T;
}

// For endpoints of features still being built: a 404 (or 405/501) means the
// server does not offer the feature yet, answered as `null`, not an error.
export async function optional<T>(path: string, opts: RequestOptions = {}): Promise<T | null> {
  try {
    return await request<T>(path, opts);
  } catch (e) {
    if (e instanceof ApiError && (e.status === 404 || e.status === 405 || e.status === 501)) return null;
    throw e;
  }
}

export function qs(params: Record<string, string | number | undefined | null>): string {
  const p = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== null && v !== '') p.set(k, String(v));
  const s = p.toString();
  return s ? `?${s}` : '';
}

// Fetches every page of a list (limit max 10000 per page).
export async function all<T>(path: string, params: Record<string, string | number | undefined> = {}): Promise<T[]> {
  const out: T[] = [];
  const limit = 10000;
  for (let offset = 0; ; offset += limit) {
    const page = await request<Page<T>>(path + qs({ ...params, limit, offset }));
    out.push(...page.items);
    if (page.items.length < limit || out.length >= page.total) break;
  }
  return out;
}

// Saved dashboards (api/dashboards.cc): widgets as the server validates them.
export type Widget =
  | { type: 'timeseries'; title?: string; period: '24h' | '7d' | '30d'; series: Array<{ deviceId: number; key: string }> }
  | { type: 'latest'; title?: string; deviceId: number; key: string }
  | { type: 'gauge'; title?: string; deviceId: number; key: string; min: number; max: number }
  | { type: 'table'; title?: string; deviceIds: number[]; keys: string[] }
  | { type: 'alarms'; title?: string }
  | { type: 'map'; title?: string; applicationId: number };
// applicationId: shared with one application (null: the organisation). public: read without login
// at /public/dashboards/{id} (admins set it; published open data only).
export interface DashboardInput { name: string; minRole: Role; applicationId: number | null; public?: boolean; layout: { widgets: Widget[] } }
export interface Dashboard extends DashboardInput { id: number; orgId: number; createdAt: string; updatedAt: string }
// The address of a public dashboard's page (web/src/screens/publicDashboard.ts).
export function publicUrl(id: number): string { return `${location.origin}/public/dashboards/${id}`; }
// A public dashboard and what its widgets show (api/dashboard_public.cc), without login.
export interface PublicDashboard { id: number; name: string; layout: { widgets: Widget[] }; devices: Array<{ id: number; name: string }>; updatedAt: string }
export interface PublicDashboardData {
  id: number; to: string; latest: Record<string, AppLatest['readings']>;
  series: Array<{ widget: number; deviceId: number; key: string; bucket: string; items: Array<{ ts: string; avg: number }> }>;
}

export const api = {
  login: (email: string, password: string) =>
    request<Session>('/api/v1/auth/login', { method: 'POST', body: { email, password }, no401: true }),
  logout: () => request<void>('/api/v1/auth/logout', { method: 'POST', no401: true }),
  me: () => request<Session>('/api/v1/auth/me', { no401: true }),
  meChecked: () => request<Session>('/api/v1/auth/me'),
  orgs: () => all<Org>('/api/v1/organizations'),
  apps: (orgId: number) => all<Application>(`/api/v1/organizations/${orgId}/applications`),
  createApp: (orgId: number, body: { name: string; description: string }) =>
    request<Application>(`/api/v1/organizations/${orgId}/applications`, { method: 'POST', body }),
  updateApp: (id: number, body: Partial<Application>) =>
    request<Application>(`/api/v1/applications/${id}`, { method: 'PATCH', body }),
  deleteApp: (id: number) => request<void>(`/api/v1/applications/${id}`, { method: 'DELETE' }),
  devices: (orgId: number) => all<Device>(`/api/v1/organizations/${orgId}/devices`),
  device: (id: number) => request<Device>(`/api/v1/devices/${id}`),
  createDevice: (appId: number, body: Partial<Device>) =>
    request<Device>(`/api/v1/applications/${appId}/devices`, { method: 'POST', body }),
  updateDevice: (id: number, body: Partial<Device>) =>
    request<Device>(`/api/v1/devices/${id}`, { method: 'PATCH', body }),
  deleteDevice: (id: number) => request<void>(`/api/v1/devices/${id}`, { method: 'DELETE' }),
  keys: (id: number) => request<{ items: string[] }>(`/api/v1/devices/${id}/keys`),
  latest: (id: number) => request<{ items: Reading[] }>(`/api/v1/devices/${id}/latest`),
  appLatest: (appId: number) => request<{ items: AppLatest[] }>(`/api/v1/applications/${appId}/latest`),
  readings: (id: number, p: Record<string, string | number>) =>
    request<Page<Reading>>(`/api/v1/devices/${id}/readings${qs(p)}`),
  buckets: (id: number, p: Record<string, string | number>) =>
    request<Page<Bucket>>(`/api/v1/devices/${id}/readings${qs(p)}`),
  // Newest first; `to` (RFC 3339) pages back in time. `total` counts the messages up to `to`.
  messages: (id: number, limit = 50, to?: string) =>
    request<Page<Message>>(`/api/v1/devices/${id}/messages${qs({ limit, to })}`),
  models: (orgId: number) => all<DeviceModel>(`/api/v1/organizations/${orgId}/device-models`),
  members: (orgId: number) => all<Member>(`/api/v1/organizations/${orgId}/members`),
  // A PUT: `applications` null gives the role in the whole organisation.
  setRole: (orgId: number, userId: number, role: Role, applications: number[] | null) =>
    request<Member>(`/api/v1/organizations/${orgId}/members/${userId}`, { method: 'PUT', body: { role, applications } }),
  removeMember: (orgId: number, userId: number) =>
    request<void>(`/api/v1/organizations/${orgId}/members/${userId}`, { method: 'DELETE' }),
  // New members come by invitation (by email); the invitee accepts it.
  invitations: (orgId: number) => all<Invitation>(`/api/v1/organizations/${orgId}/invitations`),
  // Places for an address text (the server's geocoder; editors and admins).
  geocode: (q: string) => request<{ items: Array<{ label: string; lat: number; lon: number }> }>(
    `/api/v1/geocode?q=${encodeURIComponent(q)}`).then((r) => r.items),
  // applications: null = the whole organisation; ids = those applications only.
  invite: (orgId: number, email: string, role: Role, applications: number[] | null = null) =>
    request<Invitation>(`/api/v1/organizations/${orgId}/invitations`, { method: 'POST', body: { email, role, applications } }),
  revokeInvitation: (orgId: number, id: number) =>
    request<void>(`/api/v1/organizations/${orgId}/invitations/${id}`, { method: 'DELETE' }),
  myInvitations: () => all<Invitation>('/api/v1/me/invitations'),
  answerInvitation: (id: number, answer: 'accept' | 'decline') =>
    request<unknown>(`/api/v1/me/invitations/${id}/${answer}`, { method: 'POST', body: {} }),
  apiKeys: (orgId: number) => all<ApiKey>(`/api/v1/organizations/${orgId}/api-keys`),
  createApiKey: (orgId: number, body: { name: string; role: Role; expiresAt?: string }) =>
    request<ApiKey>(`/api/v1/organizations/${orgId}/api-keys`, { method: 'POST', body }),
  deleteApiKey: (id: number) => request<void>(`/api/v1/api-keys/${id}`, { method: 'DELETE' }),
  // A new secret for the key, answered once; the old one stops working.
  rotateApiKey: (id: number) => request<ApiKey>(`/api/v1/api-keys/${id}/rotate`, { method: 'POST' }),
  // A device's new credentials, answered once: an HTTP device's ingest key or an MQTT device's broker password.
  rotateDeviceKey: (id: number) =>
    request<{ apiKey?: string; mqtt?: { username: string; password: string; host: string; port: number } }>(
      `/api/v1/devices/${id}/rotate-key`, { method: 'POST' }),
  audit: (orgId: number) => request<Page<AuditEntry>>(`/api/v1/audit${qs({ orgId, limit: 200 })}`),
  uiConfig: () => optional<{ tileUrl?: string; tileAttribution?: string; coap?: { udpPort?: number; dtlsPort?: number } }>('/api/v1/ui-config'),
  alarms: (orgId: number, state?: string) =>
    optional<Page<Alarm>>(`/api/v1/organizations/${orgId}/alarms${qs({ state, limit: 200 })}`),
  gateways: (orgId: number) => request<{ items: Gateway[] }>(`/api/v1/organizations/${orgId}/gateways`).then((r) => r.items),
  // With its online/offline changes in [from, to] (RFC 3339).
  gateway: (orgId: number, id: string, from: string, to: string) =>
    request<Gateway & { history: GatewayStateChange[] }>(
      `/api/v1/organizations/${orgId}/gateways/${encodeURIComponent(id)}${qs({ from, to })}`),
  gatewayStats: (orgId: number, id: string, from: string, to: string, bucket: 'hour' | 'day') =>
    request<{ bucket: string; items: GatewayStats[] }>(
      `/api/v1/organizations/${orgId}/gateways/${encodeURIComponent(id)}/stats${qs({ from, to, bucket })}`).then((r) => r.items),
  gatewayDevices: (orgId: number, id: string) =>
    request<{ items: HeardDevice[] }>(`/api/v1/organizations/${orgId}/gateways/${encodeURIComponent(id)}/devices`).then((r) => r.items),
  dashboards: (orgId: number) => request<{ items: Dashboard[] }>(`/api/v1/organizations/${orgId}/dashboards`),
  dashboard: (id: number) => request<Dashboard>(`/api/v1/dashboards/${id}`),
  createDashboard: (orgId: number, body: DashboardInput) =>
    request<Dashboard>(`/api/v1/organizations/${orgId}/dashboards`, { method: 'POST', body }),
  updateDashboard: (id: number, body: DashboardInput) =>
    request<Dashboard>(`/api/v1/dashboards/${id}`, { method: 'PUT', body }),
  deleteDashboard: (id: number) => request<void>(`/api/v1/dashboards/${id}`, { method: 'DELETE' }),
  publicDashboard: (id: number) => request<PublicDashboard>(`/api/v1/public/dashboards/${id}`, { no401: true }),
  publicDashboardData: (id: number) => request<PublicDashboardData>(`/api/v1/public/dashboards/${id}/data`, { no401: true }),
};
