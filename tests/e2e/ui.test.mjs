// End-to-end tests of the web UI against a running bysans with demo data:
//   BYSANS_URL=http://127.0.0.1:8080 BYSANS_ADMIN_EMAIL=... BYSANS_ADMIN_PASSWORD=... \
//   [BYSANS_VIEWER_EMAIL=... BYSANS_VIEWER_PASSWORD=...] npm --prefix web run test:e2e
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BASE, ADMIN, VIEWER, newPage, login, axeCheck, shot, settled, skip, useBrowser, adminPage, go, json, orgOf, liveOpen } from './lib.mjs';

useBrowser();

test('login shows the overview with device counts', { skip }, async () => {
  const { context, page, errors } = await newPage();
  await page.goto(`${BASE}/`);
  await page.waitForSelector('form.login');
  await axeCheck(page, 'login');
  await shot(page, 'login');
  await login(page, ADMIN);
  await page.waitForSelector('#count-total');
  const total = Number((await page.textContent('#count-total')).replace(/\D/g, ''));
  assert.ok(total > 0, 'demo devices counted');
  await axeCheck(page, 'overview');
  await shot(page, 'overview');
  assert.deepEqual(errors, []);
  await context.close();
});

test('map shows the demo devices as markers', { skip }, async () => {
  const { context, page, errors } = await adminPage();
  await go(page, '/map');
  await page.waitForSelector('#map .leaflet-marker-icon', { timeout: 30000 });
  const markers = await page.locator('#map .leaflet-marker-icon').count();
  assert.ok(markers > 0, `markers: ${markers}`);
  await page.waitForTimeout(500);
  await shot(page, 'map');
  await axeCheck(page, 'map');
  assert.deepEqual(errors, []);
  await context.close();
});

test('device list filters, and a device page shows a chart with points', { skip }, async () => {
  const { context, page, errors } = await adminPage();
  await go(page, '/devices');
  await page.waitForSelector('#device-table .vrow[data-id]');
  const before_ = await page.textContent('#device-count');
  await page.fill('#device-search', 'zz-no-such-device-zz');
  await page.waitForFunction((b) => document.querySelector('#device-count').textContent !== b, before_);
  assert.equal(await page.locator('#device-table .vrow[data-id]').count(), 0);
  await page.fill('#device-search', '');
  await page.waitForSelector('#device-table .vrow[data-id]');
  await axeCheck(page, 'devices');
  await shot(page, 'devices');
  // Sort by status, then by last seen: newest-first devices have data.
  await page.click('#device-table .c-lastSeen button');
  await page.click('#device-table .c-lastSeen button');
  await page.click('#device-table .vrow[data-id] .c-name a');
  await page.waitForSelector('#chart-key');
  await page.waitForFunction(() => Number(document.querySelector('#chart')?.dataset.points ?? 0) > 0, null, { timeout: 30000 });
  await page.waitForSelector('#chart canvas');
  await settled(page);
  await axeCheck(page, 'device');
  await shot(page, 'device');
  // A short range uses raw readings.
  await page.selectOption('#chart-range', '24h');
  await page.waitForFunction(() => /\d/.test(document.querySelector('#chart-info')?.textContent ?? ''));
  assert.deepEqual(errors, []);
  await context.close();
});

test('every screen renders without console errors or serious a11y violations', { skip }, async () => {
  const { context, page, errors } = await adminPage();
  for (const [path, name] of [['/alarms', 'alarms'], ['/rules', 'rules'], ['/decoders', 'decoders'],
    ['/admin', 'admin'], ['/import', 'import'], ['/devices/new', 'device-new']]) {
    await go(page, path);
    await page.waitForTimeout(300);
    await settled(page);
    await axeCheck(page, name);
    await shot(page, name);
  }
  assert.deepEqual(errors, []);
  await context.close();
});

test('language switches to English and back to Danish', { skip }, async () => {
  const { context, page, errors } = await adminPage();
  await page.selectOption('#lang-select', 'en');
  await page.waitForFunction(() => document.documentElement.lang === 'en');
  assert.match(await page.textContent('header nav'), /Overview/);
  assert.match(await page.textContent('#logout'), /Sign out/);
  await shot(page, 'overview-en');
  await page.selectOption('#lang-select', 'da');
  await page.waitForFunction(() => document.documentElement.lang === 'da');
  assert.match(await page.textContent('header nav'), /Overblik/);
  assert.deepEqual(errors, []);
  await context.close();
});

test('logout returns to the login screen; an expired session asks to sign in again', { skip }, async () => {
  const { context, page, errors } = await adminPage();
  await page.click('#logout');
  await page.waitForSelector('form.login');
  await page.goto(`${BASE}/devices`);
  await page.waitForSelector('form.login');
  await login(page, ADMIN);
  await page.waitForSelector('main h1');
  await settled(page);
  // Expiry: the cookie disappears, the next API call answers 401. That call may be the
  // screen's own (a list page, the invitations) rather than the navigation below, so
  // the navigation is made from script, in one task, and only while the app is still shown.
  await context.clearCookies();
  await page.evaluate(() => {
    if (!document.querySelector('#logout')) return;
    history.pushState(null, '', '/admin');
    dispatchEvent(new PopStateEvent('popstate'));
  });
  await page.waitForSelector('form.login .notice');
  assert.ok(errors.every((e) => /401/.test(e)), errors.join('\n'));
  await context.close();
});

test('a viewer sees no edit buttons and the API refuses their writes', { skip: skip || (!VIEWER.email && 'set BYSANS_VIEWER_EMAIL and BYSANS_VIEWER_PASSWORD') }, async () => {
  const { context, page, errors } = await newPage();
  await login(page, VIEWER);
  await go(page, '/devices');
  await page.waitForSelector('#device-table .vrow[data-id]');
  assert.equal(await page.locator('[data-edit]').count(), 0, 'no edit controls in the list');
  await page.click('#device-table .vrow[data-id] .c-name a');
  await page.waitForSelector('main h1');
  await settled(page);
  assert.equal(await page.locator('[data-edit]').count(), 0, 'no edit controls on the device page');
  assert.equal(await page.locator('header nav a[href="/admin"]').count(), 0, 'no administration link');
  await shot(page, 'viewer-device');
  const me = await (await context.request.get(`${BASE}/api/v1/auth/me`)).json();
  const orgId = me.memberships[0]?.orgId;
  const res = await context.request.post(`${BASE}/api/v1/organizations/${orgId}/applications`, {
    data: { name: 'viewer-should-not-create', description: '' },
  });
  assert.ok(res.status() === 403 || res.status() === 404, `viewer write answered ${res.status()}`);
  assert.deepEqual(errors, []);
  await context.close();
});

// These two flows need issues 4 (decoders) and 5 (alarms); until the
// server offers the endpoints the screens say "not available yet".
test('acknowledge an alarm (when the server has alarms)', { skip }, async (t) => {
  const { context, page, errors } = await adminPage();
  const org = await orgOf(context);
  const r = await context.request.get(`${BASE}/api/v1/organizations/${org}/alarms?state=active`);
  await go(page, '/alarms');
  if (r.status() === 404) {
    await page.waitForSelector('.unavailable');
    t.diagnostic('alarms endpoint not available yet (issue 5): checked the graceful screen');
  } else {
    const body = await r.json();
    if (!body.items?.length) { t.diagnostic('no active alarm in the demo data'); } else {
      // The demo raises new alarms meanwhile and the list redraws live: fill and submit one
      // alarm's form in one step, then wait for that alarm's form to go (acknowledged).
      await page.waitForSelector('main form[data-alarm]');
      const id = await page.evaluate(() => {
        const form = document.querySelector('main form[data-alarm]');
        form.querySelector('input').value = 'e2e: checked on site';
        form.querySelector('button[type=submit]').click();
        return form.dataset.alarm;
      });
      await page.waitForFunction((a) => !document.querySelector(`main form[data-alarm="${a}"]`), id);
      const after = await (await context.request.get(`${BASE}/api/v1/alarms/${id}`)).json();
      assert.equal(after.acknowledged, true, JSON.stringify(after));
    }
  }
  assert.deepEqual(errors, []);
  await context.close();
});

test('run a decoder on a payload (when the server has decoders)', { skip }, async (t) => {
  const { context, page, errors } = await adminPage();
  const org = await orgOf(context);
  const r = await context.request.get(`${BASE}/api/v1/organizations/${org}/decoders`);
  await go(page, '/decoders');
  if (r.status() === 404) {
    await page.waitForSelector('.unavailable');
    t.diagnostic('decoders endpoint not available yet (issue 4): checked the graceful screen');
  } else {
    await page.fill('#decoder-code', 'function decodeUplink(input) { return { data: { b0: input.bytes[0] } }; }');
    await page.fill('#decoder-payload', '2a');
    await page.click('#decoder-run');
    await page.waitForFunction(() => /b0|error|Error/.test(document.querySelector('#decoder-output').textContent));
    await shot(page, 'decoder-run');
  }
  assert.deepEqual(errors, []);
  await context.close();
});

test('create a device, bulk-import from CSV with a per-row error report, create an API key', { skip }, async () => {
  const { context, page, errors } = await adminPage();
  const org = await orgOf(context);
  const apps = (await (await context.request.get(`${BASE}/api/v1/organizations/${org}/applications`)).json()).items;
  assert.ok(apps.length > 0, 'the demo has an application');
  const tag = `e2e${Date.now().toString(36)}`;
  // Create one device through the form.
  await go(page, '/devices/new');
  await page.fill('main form input[type=text] >> nth=0', `${tag}-form`);
  await page.selectOption('main form select >> nth=1', 'http');
  await page.fill('main form input[type=number] >> nth=0', '55.68');
  await page.fill('main form input[type=number] >> nth=1', '12.57');
  await page.click('main form button[type=submit]');
  await page.waitForSelector('#device-api-key, #chart-key, main h1:has-text("' + tag + '")');
  // Import two good rows and one with an unknown application.
  await go(page, '/import');
  const csv = `name,application,transport,lat,lon,tags\n${tag}-a,${apps[0].id},http,55.1,10.1,${tag}\n` +
    `"${tag}-b",${apps[0].id},http,55.2,10.2,${tag};x\n${tag}-c,no-such-app-${tag},http,,,\n`;
  await page.setInputFiles('#csv-file', { name: 'devices.csv', mimeType: 'text/csv', buffer: Buffer.from(csv) });
  // The preview flags the bad row; creating waits until it is deselected.
  await page.waitForSelector('[data-errors="4"]');
  assert.equal(await page.locator('#csv-preview [data-errors]').count(), 1, 'one bad row in the preview');
  assert.equal(await page.isDisabled('#csv-start'), true);
  await page.uncheck('input[data-line="4"]');
  await page.waitForFunction(() => !document.querySelector('#csv-start').disabled);
  await page.click('#csv-start');
  await page.waitForSelector('#csv-keys table');
  assert.equal(await page.getAttribute('#csv-progress', 'value'), '2');
  assert.equal(await page.locator('#csv-keys tbody tr').count(), 2, 'the two created devices\' keys');
  await shot(page, 'import-report');
  // API key shown once.
  await go(page, '/admin');
  await page.waitForSelector('#api-key-form');
  const keyForm = page.locator('#api-key-form');
  await keyForm.locator('input[type=text]').fill(`${tag}-key`);
  await keyForm.locator('button[type=submit]').click();
  await page.waitForSelector('#new-api-key');
  assert.ok((await page.textContent('#new-api-key')).length > 8);
  await axeCheck(page, 'admin-key');
  // Clean up what this test created.
  const devs = (await (await context.request.get(`${BASE}/api/v1/organizations/${org}/devices?search=${tag}&limit=100`)).json()).items;
  for (const d of devs.filter((x) => x.name.startsWith(tag))) await context.request.delete(`${BASE}/api/v1/devices/${d.id}`);
  const keys = (await (await context.request.get(`${BASE}/api/v1/organizations/${org}/api-keys`)).json()).items;
  for (const k of keys.filter((x) => x.name === `${tag}-key`)) await context.request.delete(`${BASE}/api/v1/api-keys/${k.id}`);
  assert.deepEqual(errors, []);
  await context.close();
});

test('live updates: the device page shows new readings without a reload (SSE stream)', { skip }, async () => {
  const { context, page, errors } = await adminPage();
  const org = await orgOf(context);
  // The stream itself: server-sent events of committed readings, for members only.
  const ev = await page.evaluate(async (o) => {
    const ctrl = new AbortController();
    const res = await fetch(`/api/v1/organizations/${o}/stream`, { signal: ctrl.signal });
    const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
    let buf = '';
    while (!/event: reading\ndata: [^\n]+\n\n/.test(buf)) {
      const { value, done } = await reader.read();
      if (done) break;
      buf += value;
    }
    ctrl.abort();
    const m = /event: reading\ndata: ([^\n]+)\n\n/.exec(buf);
    return { type: res.headers.get('content-type'), data: m ? JSON.parse(m[1]) : null };
  }, org);
  assert.match(ev.type, /text\/event-stream/);
  assert.ok(ev.data && ev.data.deviceId > 0 && ev.data.key && ev.data.ts, JSON.stringify(ev.data));
  const anon = await fetch(`${BASE}/api/v1/organizations/${org}/stream`);
  assert.equal(anon.status, 401);
  if (VIEWER.email) {
    // Another organisation's stream does not exist for the viewer (tenancy).
    const other = await (await context.request.post(`${BASE}/api/v1/organizations`, { data: { name: `e2e-other-${Date.now()}` } })).json();
    const login_ = await fetch(`${BASE}/api/v1/auth/login`, {
      method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(VIEWER),
    });
    const cookie = (login_.headers.get('set-cookie') ?? '').split(';')[0];
    const foreign = await fetch(`${BASE}/api/v1/organizations/${other.id}/stream`, { headers: { cookie } });
    assert.equal(foreign.status, 404);
    await context.request.delete(`${BASE}/api/v1/organizations/${other.id}`);
  }
  const cfg = await (await fetch(`${BASE}/api/v1/ui-config`)).json();
  assert.match(cfg.tileUrl, /\{z\}/);
  // The UI: a latest value's time moves forward while the page stays loaded.
  await go(page, `/devices/${ev.data.deviceId}`);
  await page.waitForSelector('[data-live-ts]');
  await liveOpen(page);
  await page.evaluate(() => { window.__noReload = true; });
  const first = await page.getAttribute('[data-live-ts] >> nth=0', 'data-ts');
  await page.waitForFunction((f) => {
    const el = document.querySelector('[data-live-ts]');
    return el && Date.parse(el.dataset.ts) > Date.parse(f);
  }, first, { timeout: 60000 });
  assert.equal(await page.evaluate(() => window.__noReload), true, 'updated without a reload');
  await shot(page, 'device-live');
  assert.deepEqual(errors, []);
  await context.close();
});
