// Saved dashboards (issue 21 §4) against the real server: an editor composes a dashboard of the
// four widget types (a time series of two devices, a latest-value tile coloured against a rule's
// limit, the open alarms, a map of the application), saves it, views it, edits it (reorders,
// removes a widget, renames) and deletes it; a viewer sees it without edit controls; on a phone
// the widgets stack. An application of its own with two located devices whose readings are posted
// as SenML with their own times, and a warning rule on CO₂.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BASE, VIEWER, skip, useBrowser, adminPage, newPage, login, go, json, orgOf, tagOf, shot, axeCheck, settled, senml, liveOpen } from './lib.mjs';

useBrowser();

async function school(context, org, tag) {
  const app = await json(await context.request.post(`${BASE}/api/v1/organizations/${org}/applications`,
    { data: { name: `${tag} skole` } }), 201);
  const dev = async (n) => json(await context.request.post(`${BASE}/api/v1/applications/${app.id}/devices`, {
    data: { name: `${tag}-klasse-${n}`, transport: 'http', expectedIntervalS: 600, location: { lat: 56.1 + n / 100, lon: 10.2 } },
  }), 201);
  const devs = [await dev(1), await dev(2)];
  const now = Math.floor(Date.now() / 1000);
  for (const d of devs) {
    const week = [];
    for (let ago = 7 * 86400; ago >= 2 * 3600; ago -= 3600) week.push({ n: 'co2', u: 'ppm', v: 500 + (ago % 86400) / 600, t: now - ago });
    await senml(d.apiKey, week);
  }
  const rule = (await json(await context.request.post(`${BASE}/api/v1/organizations/${org}/rules`, {
    data: { name: `${tag} co2`, scope: { kind: 'application', id: app.id }, severity: 'warning', expression: 'co2 > 1000' },
  }), 201)).id;
  await senml(devs[0].apiKey, [{ n: 'co2', u: 'ppm', v: 1600, t: now - 60 }]);
  await senml(devs[1].apiKey, [{ n: 'co2', u: 'ppm', v: 700, t: now - 60 }]);
  const open = async () => (await json(await context.request.get(`${BASE}/api/v1/organizations/${org}/alarms?state=open&limit=500`), 200))
    .items.filter((a) => a.deviceId === devs[0].id).length;
  for (let i = 0; i < 100 && (await open()) < 1; i++) await new Promise((r) => setTimeout(r, 100));
  assert.equal(await open(), 1, 'klasse-1 is in alarm');
  return { app, devs, rule };
}

// Runs `body` with an admin page and a school of its own; removes the dashboard `body` made (it
// returns its id, or null when it deleted it itself) and the school afterwards.
async function withSchool(body) {
  const { context, page, errors } = await adminPage();
  const org = await orgOf(context);
  const tag = tagOf();
  const s = await school(context, org, tag);
  const made = { id: null };
  try {
    await body({ context, page, errors, org, tag, s, made });
  } finally {
    if (made.id) await context.request.delete(`${BASE}/api/v1/dashboards/${made.id}`);
    await context.request.delete(`${BASE}/api/v1/rules/${s.rule}`);
    for (const d of s.devs) await context.request.delete(`${BASE}/api/v1/devices/${d.id}`);
    await context.request.delete(`${BASE}/api/v1/applications/${s.app.id}`);
    await context.close();
  }
}

const widgetTypes = (page) => page.$$eval('#dash-grid .widget', (ws) => ws.map((w) => w.dataset.type));

test('dashboards: compose, save, view, edit, phone layout, viewer, delete', { skip }, () => withSchool(async ({ context, page, errors, org, tag, s, made }) => {
  let id = null;
  await page.goto(`${BASE}/dashboards`);  // a fresh load: the organisation's data with the school
  await page.waitForSelector('#dash-new');
  await page.click('#dash-new');
  await page.waitForSelector('#dash-form');
  await page.fill('#dash-name', `${tag} skolen`);
  const add = async (type) => { await page.selectOption('#dash-type', type); await page.click('#dash-add'); };
  const w = (i) => `#dash-widgets li[data-index="${i}"]`;
  // 0: latest CO₂ of klasse-1.
  await add('latest');
  await page.selectOption(`${w(0)} select.w-device`, String(s.devs[0].id));
  await page.fill(`${w(0)} input.w-key`, 'co2');
  // 1: a week of CO₂ of both classrooms.
  await add('timeseries');
  await page.selectOption(`${w(1)} select.w-period`, '7d');
  await page.locator(`${w(1)} .w-series select.w-device`).nth(0).selectOption(String(s.devs[0].id));
  await page.fill(`${w(1)} .w-series input.w-key`, 'co2');
  await page.click(`${w(1)} .w-add-series`);
  assert.equal(await page.locator(`${w(1)} .w-series`).count(), 2);
  await page.locator(`${w(1)} .w-series select.w-device`).nth(1).selectOption(String(s.devs[1].id));
  await page.fill(`${w(1)} .w-title`, 'CO₂ i ugen');
  // 2: open alarms; 3: the map of the school.
  await add('alarms');
  await add('map');
  await page.selectOption(`${w(3)} select.w-app`, String(s.app.id));
  await axeCheck(page, 'dashboard-editor');
  await shot(page, 'dashboard-editor');
  await page.click('#dash-save');
  await page.waitForSelector('#dash-grid[data-ready="1"]', { timeout: 30000 });
  id = made.id = Number(new URL(page.url()).pathname.split('/')[2]);
  assert.ok(id > 0, page.url());
  assert.equal(await page.textContent('#page-title'), `${tag} skolen`);

  // The saved layout, as the server keeps it.
  const saved = await json(await context.request.get(`${BASE}/api/v1/dashboards/${id}`), 200);
  assert.deepEqual(saved.layout.widgets.map((x) => x.type), ['latest', 'timeseries', 'alarms', 'map']);
  assert.deepEqual(saved.layout.widgets[1].series, [{ deviceId: s.devs[0].id, key: 'co2' }, { deviceId: s.devs[1].id, key: 'co2' }]);
  assert.equal(saved.layout.widgets[1].period, '7d');
  assert.equal(saved.minRole, 'viewer');

  // What the view shows: the tile coloured against the rule, the chart of both devices, the
  // alarm, the school's two devices on the map.
  assert.deepEqual(await widgetTypes(page), ['latest', 'timeseries', 'alarms', 'map']);
  const tile = await page.$eval('#dash-grid .w-latest .tile-value', (p) => ({ level: p.dataset.level, text: p.textContent, bg: getComputedStyle(p).backgroundColor }));
  assert.equal(tile.level, 'warning');
  assert.match(tile.text, /▲1\.600 ppm/);
  assert.notEqual(tile.bg, 'rgba(0, 0, 0, 0)');
  const chart = await page.$eval('#dash-grid .w-timeseries .chart', (c) => ({ points: Number(c.dataset.points), legend: c.dataset.legend, thresholds: c.dataset.thresholds }));
  assert.ok(chart.points >= 100, `points: ${chart.points}`);
  assert.equal(chart.legend, `${tag}-klasse-1 · co2,${tag}-klasse-2 · co2`);
  assert.equal(chart.thresholds, '1000');
  assert.equal(await page.textContent('#dash-grid .w-timeseries h2'), 'CO₂ i ugen');
  await page.waitForSelector('#dash-grid .w-timeseries canvas');
  assert.match(await page.textContent('#dash-grid .w-alarms'), new RegExp(`${tag}-klasse-1`));
  await page.waitForSelector('#dash-grid .w-map .dev-marker');
  assert.equal(await page.locator('#dash-grid .w-map .dev-marker').count(), 2);
  await settled(page);
  await axeCheck(page, 'dashboard');
  await shot(page, 'dashboard');

  // The list.
  await go(page, '/dashboards');
  await page.waitForSelector(`.dash-list a[data-id="${id}"]`);
  await page.click(`.dash-list a[data-id="${id}"]`);
  await page.waitForSelector('#dash-grid[data-ready="1"]');

  // Edit: the alarms first, no map, a new name.
  await page.click('#dash-edit');
  await page.waitForSelector('#dash-form');
  assert.equal(await page.inputValue('#dash-name'), `${tag} skolen`);
  assert.equal(await page.locator('#dash-widgets li').count(), 4);
  await page.click(`${w(3)} .w-remove`);
  await page.click(`${w(2)} .w-up`);
  await page.click(`${w(1)} .w-up`);
  assert.deepEqual(await page.$$eval('#dash-widgets li', (ls) => ls.map((l) => l.dataset.type)), ['alarms', 'latest', 'timeseries']);
  await page.fill('#dash-name', `${tag} skolen 2`);
  await page.click('#dash-save');
  await page.waitForFunction((n) => document.querySelector('#page-title')?.textContent === n, `${tag} skolen 2`);
  await page.waitForSelector('#dash-grid[data-ready="1"]');
  assert.deepEqual(await widgetTypes(page), ['alarms', 'latest', 'timeseries']);
  const after = await json(await context.request.get(`${BASE}/api/v1/dashboards/${id}`), 200);
  assert.deepEqual(after.layout.widgets.map((x) => x.type), ['alarms', 'latest', 'timeseries']);

  // Danish and English, no raw keys: the view and the editor.
  const raw = /\b(dash|device|compare|role)\.[a-zA-Z_.]+/;
  assert.doesNotMatch(await page.innerText('main'), raw);
  await page.click('#dash-edit');
  await page.waitForSelector('#dash-form');
  assert.doesNotMatch(await page.innerText('main'), raw);
  assert.match(await page.innerText('#dash-form'), /Tilføj element/);
  assert.match(await page.innerText('#dash-form'), /Alarmliste/);
  await page.selectOption('#lang-select', 'en');
  await page.waitForFunction(() => document.documentElement.lang === 'en' && document.querySelector('#dash-form'));
  assert.match(await page.innerText('#dash-form'), /Add widget/);
  assert.match(await page.innerText('#dash-form'), /Alarm list/);
  assert.doesNotMatch(await page.innerText('main'), raw);
  await page.selectOption('#lang-select', 'da');
  await page.waitForFunction(() => document.documentElement.lang === 'da' && document.querySelector('#dash-form'));

  // A dashboard without a name is not sent: the form says so.
  await page.fill('#dash-name', '');
  await page.click('#dash-save');
  await page.waitForSelector('#dash-form .notice.error');
  assert.equal(await page.getAttribute('#dash-name', 'aria-invalid'), 'true');
  await go(page, `/dashboards/${id}`);

  // A phone: the widgets stack in one column, nothing wider than the screen.
  await page.setViewportSize({ width: 390, height: 844 });
  await page.reload();
  await page.waitForSelector('#dash-grid[data-ready="1"]');
  const boxes = await page.$$eval('#dash-grid .widget', (ws) => ws.map((x) => { const r = x.getBoundingClientRect(); return { x: r.x, y: r.y, w: r.width }; }));
  assert.equal(boxes.length, 3);
  assert.ok(boxes.every((b) => b.x === boxes[0].x), JSON.stringify(boxes));
  assert.ok(boxes[1].y > boxes[0].y && boxes[2].y > boxes[1].y, JSON.stringify(boxes));
  assert.ok(boxes.every((b) => b.w <= 390), JSON.stringify(boxes));
  assert.ok(await page.evaluate(() => document.documentElement.scrollWidth <= 390));
  await shot(page, 'dashboard-phone');
  await page.setViewportSize({ width: 1280, height: 900 });

  // A viewer sees it, without the edit controls, and the server refuses its create.
  const v = await newPage();
  try {
    await login(v.page, VIEWER);
    await v.page.goto(`${BASE}/dashboards/${id}`);
    await v.page.waitForSelector('#dash-grid[data-ready="1"]');
    assert.equal(await v.page.locator('#dash-edit').count(), 0);
    assert.equal(await v.page.locator('#dash-delete').count(), 0);
    await go(v.page, '/dashboards');
    assert.equal(await v.page.locator('#dash-new').count(), 0);
    const r = await v.context.request.post(`${BASE}/api/v1/organizations/${org}/dashboards`,
      { data: { name: 'x', layout: { widgets: [] } } });
    assert.equal(r.status(), 403);
    assert.deepEqual(v.errors, []);
  } finally {
    await v.context.close();
  }

  // Delete.
  page.once('dialog', (d) => d.accept());
  await page.click('#dash-delete');
  await page.waitForFunction(() => location.pathname === '/dashboards');
  assert.equal((await context.request.get(`${BASE}/api/v1/dashboards/${id}`)).status(), 404);
  id = made.id = null;
  assert.deepEqual(errors, []);
}));

test('dashboards: a gauge and a table of devices × keys, composed in the editor, coloured against the rule, live', { skip }, () => withSchool(async ({ context, page, errors, org, tag, s, made }) => {
  let id = null;
  await page.goto(`${BASE}/dashboards/new`);  // a fresh load: the organisation's data with the school
  await page.waitForSelector('#dash-form');
  await page.fill('#dash-name', `${tag} målere`);
  const add = async (type) => { await page.selectOption('#dash-type', type); await page.click('#dash-add'); };
  const w = (i) => `#dash-widgets li[data-index="${i}"]`;
  await add('gauge');
  await page.selectOption(`${w(0)} select.w-device`, String(s.devs[0].id));
  await page.fill(`${w(0)} input.w-key`, 'co2');
  await page.fill(`${w(0)} input.w-min`, '400');
  await page.fill(`${w(0)} input.w-max`, '2000');
  await add('table');
  await page.selectOption(`${w(1)} select.w-devices`, [String(s.devs[0].id), String(s.devs[1].id)]);
  await page.fill(`${w(1)} input.w-keys`, 'co2, temperature');
  await add('alarms');
  await axeCheck(page, 'dashboard-editor-gauge');
  await page.click('#dash-save');
  await page.waitForSelector('#dash-grid[data-ready="1"]', { timeout: 30000 });
  id = made.id = Number(new URL(page.url()).pathname.split('/')[2]);
  const saved = await json(await context.request.get(`${BASE}/api/v1/dashboards/${id}`), 200);
  assert.deepEqual(saved.layout.widgets[0], { type: 'gauge', title: '', deviceId: s.devs[0].id, key: 'co2', min: 400, max: 2000 });
  assert.deepEqual(saved.layout.widgets[1], { type: 'table', title: '', deviceIds: [s.devs[0].id, s.devs[1].id], keys: ['co2', 'temperature'] });

  // The gauge: 1600 ppm on 400..2000 is three quarters, in the rule's warning colour.
  assert.equal(await page.getAttribute('#dash-grid .w-gauge [data-share]', 'data-share'), '0.750');
  assert.equal(await page.getAttribute('#dash-grid .w-gauge .tile-value', 'data-level'), 'warning');
  assert.equal(await page.locator('#dash-grid .w-gauge path.gauge-fill.lv-warning').count(), 1);
  assert.match(await page.textContent('#dash-grid .w-gauge .gauge-scale'), /400.*2\.000/);
  // The table: a row per device, a column per key; klasse-1 breaks the rule, klasse-2 does not,
  // and a key no device has shows a dash.
  const cells = await page.$$eval('#dash-grid .w-table tbody tr', (trs) => trs.map((tr) => ({
    device: tr.dataset.device,
    co2: tr.querySelector('td[data-key="co2"]')?.dataset.level ?? null,
    temperature: tr.querySelector('td[data-key="temperature"]')?.textContent,
  })));
  assert.deepEqual(cells, [
    { device: String(s.devs[0].id), co2: 'warning', temperature: '–' },
    { device: String(s.devs[1].id), co2: 'ok', temperature: '–' },
  ]);
  await settled(page);
  await axeCheck(page, 'dashboard-gauge-table');
  await shot(page, 'dashboard-gauge-table');

  // Live: new readings redraw the gauge and the table, without a reload.
  await liveOpen(page);
  assert.match(await page.textContent('#dash-grid .w-alarms'), new RegExp(`${tag}-klasse-1`));
  assert.doesNotMatch(await page.textContent('#dash-grid .w-alarms'), new RegExp(`${tag}-klasse-2`));
  const now = Math.floor(Date.now() / 1000);
  await senml(s.devs[0].apiKey, [{ n: 'co2', u: 'ppm', v: 800, t: now }]);
  await senml(s.devs[1].apiKey, [{ n: 'co2', u: 'ppm', v: 1800, t: now }]);
  await page.waitForFunction(() => document.querySelector('#dash-grid .w-gauge [data-share]')?.dataset.share === '0.250',
    null, { timeout: 15000 });
  assert.equal(await page.getAttribute('#dash-grid .w-gauge .tile-value', 'data-level'), 'ok');
  await page.waitForFunction((dev) => document.querySelector(`#dash-grid .w-table tr[data-device="${dev}"] td[data-key="co2"]`)
    ?.dataset.level === 'warning', String(s.devs[1].id), { timeout: 15000 });
  assert.ok(Number(await page.getAttribute('#dash-grid .w-table', 'data-live')) >= 1);
  // klasse-2's reading raised an alarm: the alarm list re-reads the open alarms.
  await page.waitForFunction((name) => document.querySelector('#dash-grid .w-alarms')?.textContent.includes(name),
    `${tag}-klasse-2`, { timeout: 15000 });
  assert.deepEqual(errors, []);

  // A gauge whose scale is upside down is refused by the server, and the editor says so.
  await page.click('#dash-edit');
  await page.waitForSelector('#dash-form');
  await page.fill(`${w(0)} input.w-min`, '3000');
  await page.click('#dash-save');
  await page.waitForSelector('#dash-form .notice.error');
  assert.match(await page.textContent('#dash-form .notice.error'), /min/);
  assert.deepEqual(errors.filter((e) => !e.includes(`status of 400 (Bad Request) @ ${BASE}/api/v1/dashboards/${id}`)), []);
}));
