// UI benchmark against a running bysans (BYSANS_URL, BYSANS_ADMIN_EMAIL,
// BYSANS_ADMIN_PASSWORD). Prints one line:
//   BENCH ui first_load_kb=<n> first_load_ms=<n> list_10k_render_ms=<n> list_10k_filter_ms=<n>
//            compare_1000_ms=<n> dashboard_8x7d_ms=<n>
// first_load: a fresh browser profile (empty cache) with a valid session
// opens "/" until the overview shows its counts; kb = bytes on the wire.
// list_10k: the device list endpoint is answered with 10,000 synthetic
// devices (page.route), then the list screen is rendered and filtered.
// compare_1000: the server is loaded with an application of 1,000 HTTP devices (created and
// sent a reading of five keys each through the API, and a rule on CO₂), then the comparison
// screen of that application is opened until its table of 1,000 rows is painted.
// dashboard_8x7d: 8 HTTP devices each sent 7 days of 10-minute CO₂ (SenML with its own times), a
// saved dashboard of one time series of the 8, opened until every widget is drawn.
import { createRequire } from 'node:module';

const require = createRequire(new URL('../package.json', import.meta.url));
const { chromium } = require('playwright-core');
const BASE = (process.env.BYSANS_URL ?? '').replace(/\/$/, '');
const EMAIL = process.env.BYSANS_ADMIN_EMAIL;
const PASSWORD = process.env.BYSANS_ADMIN_PASSWORD;
if (!BASE || !EMAIL || !PASSWORD) {
  console.error('set BYSANS_URL, BYSANS_ADMIN_EMAIL, BYSANS_ADMIN_PASSWORD');
  process.exit(2);
}
const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync', '--disable-dev-shm-usage'];
const median = (a) => { const s = [...a].sort((x, y) => x - y); return s[Math.floor(s.length / 2)]; };

const browser = await chromium.launch({ executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium', args: ARGS });

async function session() {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const r = await context.request.post(`${BASE}/api/v1/auth/login`, { data: { email: EMAIL, password: PASSWORD } });
  if (r.status() !== 200) throw new Error(`login failed: ${r.status()}`);
  return context;
}

async function firstLoad() {
  const context = await session();
  const page = await context.newPage();
  const cdp = await context.newCDPSession(page);
  await cdp.send('Network.enable');
  let bytes = 0;
  cdp.on('Network.loadingFinished', (e) => { bytes += e.encodedDataLength; });
  const t0 = Date.now();
  await page.goto(`${BASE}/`);
  await page.waitForSelector('#count-total', { timeout: 60000 });
  const ms = Date.now() - t0;
  await page.waitForTimeout(200);
  await context.close();
  return { kb: bytes / 1024, ms };
}

// Milliseconds from a client-side navigation to `path` until `selector` is shown and painted.
function navigateUntil(page, path, selector) {
  return page.evaluate(([p, sel]) => new Promise((resolve) => {
    const t0 = performance.now();
    history.pushState(null, '', p);
    dispatchEvent(new PopStateEvent('popstate'));
    const poll = () => {
      if (document.querySelector(sel)) requestAnimationFrame(() => resolve(performance.now() - t0));
      else requestAnimationFrame(poll);
    };
    poll();
  }), [path, selector]);
}

function fakeDevices(n) {
  const items = [];
  for (let i = 1; i <= n; i++) {
    items.push({
      id: 1_000_000 + i, orgId: 1, applicationId: 1, name: `Bench sensor ${String(i).padStart(5, '0')}`,
      transport: ['http', 'mqtt', 'lorawan'][i % 3], devEui: null,
      location: { lat: 55 + (i % 100) / 50, lon: 9 + Math.floor(i / 100) / 30 },
      tags: [`zone-${i % 20}`, i % 2 ? 'school' : 'street'], metadata: {}, deviceModelId: null,
      expectedIntervalS: 600, inMaintenance: i % 97 === 0, createdAt: '2026-01-01T00:00:00Z',
    });
  }
  return { items, total: n, limit: 10000, offset: 0 };
}

async function list10k() {
  const context = await session();
  const page = await context.newPage();
  const body = JSON.stringify(fakeDevices(10000));
  await page.route(/\/api\/v1\/organizations\/\d+\/devices(\?.*)?$/, (route) =>
    route.fulfill({ status: 200, contentType: 'application/json', body }));
  await page.goto(`${BASE}/`);
  await page.waitForSelector('#count-total', { timeout: 60000 }); // the 10k devices are loaded and cached
  const render = [];
  const filter = [];
  for (let i = 0; i < 5; i++) {
    // Render: navigate to the list and wait until rows are painted.
    render.push(await navigateUntil(page, '/devices', '#device-table .vrow[data-id]'));
    // Filter: a text search over all 10,000 rows, then clear it.
    filter.push(await page.evaluate((q) => new Promise((resolve) => {
      const input = document.querySelector('#device-search');
      const t0 = performance.now();
      input.value = q;
      input.dispatchEvent(new Event('change'));
      requestAnimationFrame(() => resolve(performance.now() - t0));
    }), `sensor 0${i}1`));
    const shown = await page.textContent('#device-count');
    if (!/10[.,]?000/.test(shown)) throw new Error(`unexpected count: ${shown}`);
    await page.evaluate(() => { history.pushState(null, '', '/'); dispatchEvent(new PopStateEvent('popstate')); });
    await page.waitForSelector('#count-total');
  }
  await context.close();
  return { render: median(render), filter: median(filter) };
}

// Runs `fn` over `items`, `n` at a time.
async function pool(items, n, fn) {
  let next = 0;
  await Promise.all(Array.from({ length: n }, async () => {
    while (next < items.length) { const i = next++; await fn(items[i], i); }
  }));
}

// The JSON body of an API answer of the expected status.
async function ok(res, status) {
  if (res.status() !== status) throw new Error(`${res.url()}: ${res.status()} ${await res.text()}`);
  return res.json();
}

async function loadCompareApp(n) {
  const context = await session();
  const req = context.request;
  const org = (await ok(await req.get(`${BASE}/api/v1/organizations`), 200)).items[0].id;
  const app = await ok(await req.post(`${BASE}/api/v1/organizations/${org}/applications`,
    { data: { name: `Bench sammenligning ${Date.now()}` } }), 201);
  await ok(await req.post(`${BASE}/api/v1/organizations/${org}/rules`, {
    data: { name: 'Bench CO2', scope: { kind: 'application', id: app.id }, severity: 'warning', expression: 'co2 > 1000' },
  }), 201);
  await pool(Array.from({ length: n }, (_, i) => i), 8, async (i) => {
    const d = await ok(await req.post(`${BASE}/api/v1/applications/${app.id}/devices`, {
      data: { name: `Klasse ${String(i + 1).padStart(4, '0')}`, transport: 'http', expectedIntervalS: 600 },
    }), 201);
    const res = await fetch(`${BASE}/api/v1/receive-data?apiKey=${encodeURIComponent(d.apiKey)}`, {
      method: 'POST', headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ co2: 400 + (i * 37) % 1200, temperature: 19 + (i % 50) / 10, humidity: 30 + i % 40,
        batteryLevel: i % 100, rssi: -60 - i % 50 }),
    });
    if (res.status >= 300) throw new Error(`ingest: ${res.status}`);
  });
  await context.close();
  return app.id;
}

// Median of 5 client-side navigations from the overview (the organisation's data loaded and
// cached) to `path` until `selector` is painted; `check(page)` after each.
async function timeNavigations(path, selector, check = async () => {}) {
  const context = await session();
  const page = await context.newPage();
  await page.goto(`${BASE}/`);
  await page.waitForSelector('#count-total', { timeout: 60000 });
  const times = [];
  for (let i = 0; i < 5; i++) {
    times.push(await navigateUntil(page, path, selector));
    await check(page);
    await page.evaluate(() => { history.pushState(null, '', '/'); dispatchEvent(new PopStateEvent('popstate')); });
    await page.waitForSelector('#count-total');
  }
  await context.close();
  return median(times);
}

const compare1000 = (appId) =>
  timeNavigations(`/compare?app=${appId}`, '#compare-table[aria-rowcount="1001"] tbody tr[data-id]');

async function loadDashboard() {
  const context = await session();
  const req = context.request;
  const org = (await ok(await req.get(`${BASE}/api/v1/organizations`), 200)).items[0].id;
  const app = await ok(await req.post(`${BASE}/api/v1/organizations/${org}/applications`,
    { data: { name: `Bench dashboard ${Date.now()}` } }), 201);
  const now = Math.floor(Date.now() / 1000);
  const series = [];
  await pool(Array.from({ length: 8 }, (_, i) => i), 4, async (i) => {
    const d = await ok(await req.post(`${BASE}/api/v1/applications/${app.id}/devices`, {
      data: { name: `Dashboard ${i + 1}`, transport: 'http', expectedIntervalS: 600 },
    }), 201);
    const week = [];
    for (let ago = 7 * 86400; ago >= 0; ago -= 600) week.push({ n: 'co2', u: 'ppm', v: 450 + ((ago / 600 + i * 17) % 144) * 4, t: now - ago });
    for (let k = 0; k < week.length; k += 500) {  // at most 1,000 readings a message (ingest/flatten.h)
      const res = await fetch(`${BASE}/api/v1/receive-data?apiKey=${encodeURIComponent(d.apiKey)}`, {
        method: 'POST', headers: { 'Content-Type': 'application/senml+json' }, body: JSON.stringify(week.slice(k, k + 500)),
      });
      if (res.status >= 300) throw new Error(`ingest: ${res.status} ${await res.text()}`);
    }
    series[i] = { deviceId: d.id, key: 'co2' };
  });
  const dash = await ok(await req.post(`${BASE}/api/v1/organizations/${org}/dashboards`, {
    data: { name: 'Bench 8 x 7 d', layout: { widgets: [{ type: 'timeseries', period: '7d', series }] } },
  }), 201);
  await context.close();
  return dash.id;
}

const dashboard8x7d = (id) => timeNavigations(`/dashboards/${id}`, '#dash-grid[data-ready="1"]', async (page) => {
  const points = await page.$eval('#dash-grid .chart', (c) => Number(c.dataset.points));
  const legend = await page.$eval('#dash-grid .chart', (c) => c.dataset.legend.split(',').length);
  if (points < 160 || legend !== 8) throw new Error(`dashboard drew ${points} points of ${legend} series`);
});

try {
  const loads = [];
  for (let i = 0; i < 3; i++) loads.push(await firstLoad());
  const l = await list10k();
  const cmp = await compare1000(await loadCompareApp(1000));
  const dash = await dashboard8x7d(await loadDashboard());
  const kb = median(loads.map((x) => x.kb));
  const ms = median(loads.map((x) => x.ms));
  console.log(`BENCH ui first_load_kb=${kb.toFixed(1)} first_load_ms=${Math.round(ms)} ` +
    `list_10k_render_ms=${l.render.toFixed(1)} list_10k_filter_ms=${l.filter.toFixed(1)} ` +
    `compare_1000_ms=${cmp.toFixed(1)} dashboard_8x7d_ms=${dash.toFixed(1)}`);
} finally {
  await browser.close();
}
