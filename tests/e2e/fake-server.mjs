// DEVELOPMENT AID ONLY: a tiny fake of the bysans REST API with demo data,
// serving web/dist like bysans does (SPA fallback, strict CSP). The real
// tests run against a real bysans via BYSANS_URL.
//   node tests/e2e/fake-server.mjs [port]   (admin@example.com / admin-pass,
//                                             viewer@example.com / viewer-pass)
import http from 'node:http';
import { readFileSync, existsSync, statSync } from 'node:fs';
import { join, extname } from 'node:path';
import { randomBytes } from 'node:crypto';

const dist = new URL('../../web/dist/', import.meta.url).pathname;
const CSP = "default-src 'self'; img-src 'self' data: https:; style-src 'self'; script-src 'self'; connect-src 'self'";
const types = { '.html': 'text/html; charset=utf-8', '.js': 'text/javascript', '.css': 'text/css', '.png': 'image/png', '.svg': 'image/svg+xml', '.json': 'application/json' };

const users = [
  { id: 1, email: 'admin@example.com', name: 'Admin', globalAdmin: true, password: 'admin-pass', role: 'admin' },
  { id: 2, email: 'viewer@example.com', name: 'Vera Viewer', globalAdmin: false, password: 'viewer-pass', role: 'viewer' },
];
const orgs = [{ id: 1, name: 'Demo Kommune' }];
const apps = [
  { id: 1, orgId: 1, name: 'Indeklima skoler', description: 'CO2 og temperatur' },
  { id: 2, orgId: 1, name: 'Vandstand', description: 'Vandløb' },
];
const now = Date.now();
const devices = [];
for (let i = 1; i <= Number(process.env.FAKE_DEVICES ?? 120); i++) {
  devices.push({
    id: i, orgId: 1, applicationId: (i % 2) + 1, name: `Sensor ${String(i).padStart(4, '0')}`,
    transport: i % 3 === 0 ? 'lorawan' : 'http', devEui: i % 3 === 0 ? (0x70b3d500000000n + BigInt(i)).toString(16).padStart(16, '0') : null,
    location: i % 10 === 0 ? null : { lat: 56.15 + Math.sin(i) * 0.05, lon: 10.2 + Math.cos(i * 1.3) * 0.08 },
    tags: [i % 2 ? 'skole' : 'vand', i % 5 ? 'nord' : 'syd'], metadata: {}, deviceModelId: null,
    expectedIntervalS: 600, inMaintenance: i % 17 === 0, createdAt: new Date(now - 86400e3 * 40).toISOString(),
  });
}
const lastSeen = (d) => now - (d.id % 7 === 0 ? 86400e3 : (d.id % 5) * 60e3);
const sessions = new Map();
const apiKeys = [];
const audit = [];

function send(res, status, body, headers = {}) {
  const data = body === undefined ? '' : JSON.stringify(body);
  res.writeHead(status, { 'Content-Type': 'application/json', 'Cache-Control': 'no-store', ...headers });
  res.end(data);
}
const err = (res, status, code, message) => send(res, status, { error: { code, message } });
const paged = (res, items, q) => {
  const limit = Number(q.get('limit') ?? 100); const offset = Number(q.get('offset') ?? 0);
  send(res, 200, { items: items.slice(offset, offset + limit), total: items.length, limit, offset });
};
function body(req) {
  return new Promise((resolve) => { let s = ''; req.on('data', (c) => { s += c; }); req.on('end', () => { try { resolve(s ? JSON.parse(s) : {}); } catch { resolve({}); } }); });
}
function series(d, key, from, to, step) {
  const out = [];
  const end = Math.min(to, lastSeen(d));
  for (let t = end; t >= from && out.length < 10000; t -= step) {
    const v = key === 'temperature' ? 20 + 3 * Math.sin(t / 3.6e6 / 4 + d.id) : key === 'co2' ? 600 + 300 * Math.sin(t / 3.6e6 / 3) : key === 'battery' ? 3.6 : -90;
    out.push({ t, v: Math.round(v * 100) / 100 });
  }
  return out;
}
const units = { temperature: '°C', co2: 'ppm', battery: 'V', rssi: 'dBm' };
const keysOf = () => ['temperature', 'co2', 'battery', 'rssi'];
function latestOf(d) {
  const ts = new Date(lastSeen(d)).toISOString();
  return keysOf().map((k) => ({ key: k, ts, value: series(d, k, lastSeen(d) - 1, lastSeen(d), 1)[0].v, unit: units[k], quality: 'good' }));
}

async function api(req, res, url) {
  const p = url.pathname.replace(/^\/api\/v1/, '');
  const q = url.searchParams;
  const m = req.method;
  const sid = /bysans_session=([^;]+)/.exec(req.headers.cookie ?? '')?.[1];
  const user = sid ? sessions.get(sid) : undefined;
  const me = (u) => ({ user: { id: u.id, email: u.email, name: u.name, globalAdmin: u.globalAdmin }, memberships: [{ orgId: 1, role: u.role }] });
  if (p === '/auth/login' && m === 'POST') {
    const b = await body(req);
    const u = users.find((x) => x.email === b.email && x.password === b.password);
    if (!u) return err(res, 401, 'unauthenticated', 'bad credentials');
    const s = randomBytes(16).toString('hex');
    sessions.set(s, u);
    return send(res, 200, me(u), { 'Set-Cookie': `bysans_session=${s}; HttpOnly; SameSite=Strict; Path=/` });
  }
  if (!user) return err(res, 401, 'unauthenticated', 'no session');
  const write = m !== 'GET';
  if (write && user.role === 'viewer' && p !== '/auth/logout') return err(res, 403, 'permission_denied', 'viewer');
  let r;
  if (p === '/auth/logout') { sessions.delete(sid); res.writeHead(204, { 'Set-Cookie': 'bysans_session=; Max-Age=0; Path=/' }); return res.end(); }
  if (p === '/auth/me') return send(res, 200, me(user));
  if (p === '/organizations') return paged(res, orgs, q);
  if ((r = /^\/organizations\/(\d+)\/applications$/.exec(p))) {
    if (m === 'POST') { const b = await body(req); const a = { id: apps.length + 1, orgId: 1, name: b.name, description: b.description ?? '' }; apps.push(a); return send(res, 201, a); }
    return paged(res, apps, q);
  }
  if ((r = /^\/organizations\/(\d+)\/devices$/.exec(p))) {
    const s = (q.get('search') ?? '').toLowerCase();
    return paged(res, devices.filter((d) => !s || d.name.toLowerCase().includes(s)), q);
  }
  if ((r = /^\/applications\/(\d+)\/devices$/.exec(p)) && m === 'POST') {
    const b = await body(req);
    if (!b.name) return err(res, 400, 'invalid_argument', 'name is required');
    const d = { id: devices.length + 1, orgId: 1, applicationId: Number(r[1]), tags: [], metadata: {}, location: null, ...b, createdAt: new Date().toISOString() };
    devices.push(d);
    return send(res, 201, d.transport === 'http' ? { ...d, apiKey: randomBytes(12).toString('hex') } : d);
  }
  if ((r = /^\/applications\/(\d+)\/latest$/.exec(p))) {
    return send(res, 200, { items: devices.filter((d) => d.applicationId === Number(r[1])).map((d) => ({ deviceId: d.id, deviceName: d.name, readings: Object.fromEntries(latestOf(d).map((x) => [x.key, x])) })) });
  }
  if ((r = /^\/devices\/(\d+)(\/.*)?$/.exec(p))) {
    const d = devices.find((x) => x.id === Number(r[1]));
    if (!d) return err(res, 404, 'not_found', 'no such device');
    const sub = r[2] ?? '';
    if (sub === '' && m === 'PATCH') { Object.assign(d, await body(req)); return send(res, 200, d); }
    if (sub === '' && m === 'DELETE') { devices.splice(devices.indexOf(d), 1); res.writeHead(204); return res.end(); }
    if (sub === '') return send(res, 200, d);
    if (sub === '/keys') return send(res, 200, { items: keysOf() });
    if (sub === '/latest') return send(res, 200, { items: latestOf(d) });
    if (sub === '/messages') return paged(res, [1, 2, 3].map((i) => ({ id: i, receivedAt: new Date(lastSeen(d) - i * 6e5).toISOString(), transport: d.transport, contentType: 'application/json', payload: '{"temperature":21.5}', payloadEncoding: 'utf8', decodeStatus: i === 2 ? 'error' : 'ok', decodeError: i === 2 ? 'SyntaxError at 1:3' : null })), q);
    if (sub === '/readings') {
      const from = Date.parse(q.get('from')); const to = Date.parse(q.get('to'));
      const key = q.get('key');
      if (q.get('bucket')) {
        const step = q.get('bucket') === '1d' ? 86400e3 : 3600e3;
        const raw = series(d, key, from, to, 600e3);
        const buckets = new Map();
        for (const x of raw) { const b = Math.floor(x.t / step) * step; const e = buckets.get(b) ?? []; e.push(x.v); buckets.set(b, e); }
        const items = [...buckets].map(([b, v]) => ({ ts: new Date(b).toISOString(), avg: v.reduce((a, c) => a + c, 0) / v.length, min: Math.min(...v), max: Math.max(...v), count: v.length }));
        return paged(res, items, q);
      }
      return paged(res, series(d, key, from, to, 600e3).map((x) => ({ key, ts: new Date(x.t).toISOString(), value: x.v, unit: units[key], quality: 'good' })), q);
    }
  }
  if (/^\/organizations\/\d+\/stream$/.test(p) && process.env.FAKE_STREAM) {
    res.writeHead(200, { 'Content-Type': 'text/event-stream', 'Cache-Control': 'no-store' });
    const timer = setInterval(() => {
      const d = devices[Math.floor(Math.random() * devices.length)];
      res.write(`event: reading\ndata: ${JSON.stringify({ deviceId: d.id, key: 'temperature', ts: new Date().toISOString(), value: 21, unit: '°C' })}\n\n`);
    }, 500);
    req.on('close', () => clearInterval(timer));
    return;
  }
  if ((r = /^\/organizations\/(\d+)\/device-models$/.exec(p))) return paged(res, [{ id: 1, name: 'Elsys ERS', doc: {} }], q);
  if (p === '/me/invitations' || /^\/organizations\/\d+\/invitations$/.test(p)) return paged(res, [], q);
  if ((r = /^\/organizations\/(\d+)\/members$/.exec(p))) return paged(res, users.map((u) => ({ userId: u.id, email: u.email, name: u.name, role: u.role })), q);
  if ((r = /^\/organizations\/(\d+)\/members\/(\d+)$/.exec(p)) && m === 'PUT') { const b = await body(req); const u = users.find((x) => x.id === Number(r[2])); u.role = b.role; return send(res, 200, { userId: u.id, email: u.email, name: u.name, role: u.role }); }
  if ((r = /^\/organizations\/(\d+)\/api-keys$/.exec(p))) {
    if (m === 'POST') { const b = await body(req); const k = { id: apiKeys.length + 1, name: b.name, role: b.role, expiresAt: b.expiresAt ?? null }; apiKeys.push(k); return send(res, 201, { ...k, key: `bys_${randomBytes(16).toString('hex')}` }); }
    return paged(res, apiKeys, q);
  }
  if ((r = /^\/api-keys\/(\d+)$/.exec(p)) && m === 'DELETE') { apiKeys.splice(apiKeys.findIndex((k) => k.id === Number(r[1])), 1); res.writeHead(204); return res.end(); }
  if (p === '/audit') return paged(res, [{ ts: new Date().toISOString(), action: 'login', objectType: 'user', objectId: '1', userId: 1, remoteAddr: '127.0.0.1', detail: '' }, ...audit], q);
  if (p === '/users') return paged(res, users.map(({ password, ...u }) => u), q);
  return err(res, 404, 'not_found', 'no such endpoint');
}

const server = http.createServer(async (req, res) => {
  const url = new URL(req.url, 'http://x');
  if (url.pathname.startsWith('/api/')) return api(req, res, url);
  let file = join(dist, url.pathname);
  if (!file.startsWith(dist) || !existsSync(file) || statSync(file).isDirectory()) file = join(dist, 'index.html');
  const hdrs = { 'Content-Type': types[extname(file)] ?? 'application/octet-stream', 'Content-Security-Policy': CSP, 'X-Content-Type-Options': 'nosniff' };
  if (/\.(js|css)$/.test(file) && existsSync(`${file}.gz`) && /gzip/.test(req.headers['accept-encoding'] ?? '')) {
    res.writeHead(200, { ...hdrs, 'Content-Encoding': 'gzip' });
    return res.end(readFileSync(`${file}.gz`));
  }
  res.writeHead(200, hdrs);
  res.end(readFileSync(file));
});
server.listen(Number(process.argv[2] ?? 0), '127.0.0.1', () => {
  console.log(`fake bysans on http://127.0.0.1:${server.address().port}`);
});
