// Compare and overview (issue 21 §4): the comparison table of an application's devices (latest
// values coloured against the rules' limits, sorting, CSV for Danish Excel and .xlsx, live), the chart
// of one quantity for several devices with "school hours only", the overview's health tiles per
// application and the device list's battery and signal columns. Against the real server: an
// application of its own with three devices whose readings are posted as SenML with their own
// times, and two rules on it created through the API.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { BASE, skip, useBrowser, adminPage, go, json, orgOf, tagOf, shot, axeCheck, settled, senml, liveOpen, holdLiveStream } from './lib.mjs';

useBrowser();

// The school's application: klasse-1 (CO₂ 1,600 over the warning rule's 1,000, battery 15 %),
// klasse-2 (22.5 °C over the critical rule's 22), klasse-3 (silent: its only readings are 5 hours
// old). A week of hourly CO₂ for the first two; the rules come after the history and before the
// newest readings, which raise one alarm each.
async function school(context, org, tag) {
  const app = await json(await context.request.post(`${BASE}/api/v1/organizations/${org}/applications`,
    { data: { name: `${tag} skole` } }), 201);
  const dev = async (n) => json(await context.request.post(`${BASE}/api/v1/applications/${app.id}/devices`,
    { data: { name: `${tag}-klasse-${n}`, transport: 'http', expectedIntervalS: 600 } }), 201);
  const devs = [await dev(1), await dev(2), await dev(3)];
  const now = Math.floor(Date.now() / 1000);
  for (const d of devs.slice(0, 2)) {
    const week = [];
    for (let ago = 7 * 86400; ago >= 2 * 3600; ago -= 3600) week.push({ n: 'co2', u: 'ppm', v: 500 + (ago % 86400) / 600, t: now - ago });
    await senml(d.apiKey, week);
  }
  await senml(devs[2].apiKey, [{ n: 'co2', u: 'ppm', v: 600, t: now - 5 * 3600 }, { n: 'batteryLevel', u: '%', v: 80, t: now - 5 * 3600 }]);
  const rules = [];
  for (const [severity, expression] of [['warning', 'co2 > 1000'], ['critical', 'temperature > 22']]) {
    rules.push((await json(await context.request.post(`${BASE}/api/v1/organizations/${org}/rules`, {
      data: { name: `${tag} ${severity}`, scope: { kind: 'application', id: app.id }, severity, expression },
    }), 201)).id);
  }
  const latest = (co2, temp, hum, bat, rssi) => [
    { n: 'co2', u: 'ppm', v: co2, t: now - 60 }, { n: 'temperature', u: 'Cel', v: temp, t: now - 60 },
    { n: 'humidity', u: '%RH', v: hum, t: now - 60 }, { n: 'batteryLevel', u: '%', v: bat, t: now - 60 },
    { n: 'rssi', u: 'dBm', v: rssi, t: now - 60 }];
  await senml(devs[0].apiKey, latest(1600, 21, 40, 15, -90));
  await senml(devs[1].apiKey, latest(800, 22.5, 45.5, 90, -70));
  const open = async () => (await json(await context.request.get(`${BASE}/api/v1/organizations/${org}/alarms?state=open&limit=500`), 200))
    .items.filter((a) => devs.some((d) => d.id === a.deviceId)).length;
  for (let i = 0; i < 100 && (await open()) < 2; i++) await new Promise((r) => setTimeout(r, 100));
  assert.equal(await open(), 2, 'klasse-1 and klasse-2 are in alarm');
  return { app, devs, rules };
}

// Runs `fn({ context, page, errors, tag, s })` as the admin with a school of its own, removed after.
async function withSchool(fn) {
  const { context, page, errors } = await adminPage();
  const org = await orgOf(context);
  const tag = tagOf();
  let s = null;
  try {
    s = await school(context, org, tag);
    await fn({ context, page, errors, tag, s });
  } finally {
    if (s) {
      for (const id of s.rules) await context.request.delete(`${BASE}/api/v1/rules/${id}`);
      for (const d of s.devs) await context.request.delete(`${BASE}/api/v1/devices/${d.id}`);
      await context.request.delete(`${BASE}/api/v1/applications/${s.app.id}`);
    }
    await context.close();
  }
}

const names = (page) => page.$$eval('#compare-table tbody tr[data-id] td:first-child', (tds) => tds.map((td) => td.textContent.replace(/^.*klasse-/, '')));

test('compare: values coloured against the rules, sorting, CSV and Excel, multi-device chart, health tiles', { skip }, () =>
  withSchool(async ({ page, errors, tag, s }) => {
    await page.goto(`${BASE}/`);  // a fresh load: the organisation's data with the new application
    await page.waitForSelector(`#app-health li[data-app="${s.app.id}"]`);

    // Health tiles of the school: 3 devices, 1 silent, 2 in alarm, 1 with a low battery.
    const tiles = await page.$$eval(`#app-health li[data-app="${s.app.id}"] dd`, (dds) => Object.fromEntries(dds.map((d) => [d.dataset.health, d.textContent])));
    assert.deepEqual(tiles, { devices: '3', silent: '1', alarm: '2', lowBattery: '1' });
    await page.locator(`#app-health li[data-app="${s.app.id}"]`).scrollIntoViewIfNeeded();
    await shot(page, 'overview-health');
    await page.click(`#app-health li[data-app="${s.app.id}"] h3 a`);
    await page.waitForSelector('#compare-table tbody tr');
    assert.equal(new URL(page.url()).pathname, '/compare');

    // The table: one row per device, the columns the devices have, values in Danish with units.
    const heads = await page.$$eval('#compare-table thead th', (ths) => ths.map((th) => th.textContent.replace(/ [▲▼]$/, '')));
    assert.deepEqual(heads, ['Enhed', 'CO₂ (ppm)', 'Temperatur (Cel)', 'Luftfugtighed (%RH)', 'Batteri (%)', 'Signalstyrke (RSSI) (dBm)', 'Sidst set']);
    assert.deepEqual(await names(page), ['1', '2', '3']);
    const cell = (n, key) => page.$eval(`#compare-table tr[data-id="${s.devs[n].id}"] td[data-key="${key}"]`,
      (td) => ({ level: td.dataset.level ?? null, text: td.textContent, bg: getComputedStyle(td).backgroundColor }));
    const co2High = await cell(0, 'co2');
    assert.equal(co2High.level, 'warning');
    assert.match(co2High.text, /▲1\.600 ppm/);
    assert.match(co2High.text, /uden for grænsen/);
    assert.equal((await cell(1, 'co2')).level, 'ok');
    const hot = await cell(1, 'temperature');
    assert.equal(hot.level, 'critical');
    assert.match(hot.text, /22,5 Cel/);
    assert.equal((await cell(0, 'temperature')).level, 'ok');
    assert.equal((await cell(0, 'batteryLevel')).level, null, 'no rule watches the battery');
    assert.notEqual(co2High.bg, hot.bg, 'warning and critical have their own colours');
    assert.notEqual((await cell(1, 'co2')).bg, co2High.bg);
    const silent = await page.$eval(`#compare-table tr[data-id="${s.devs[2].id}"] td:last-child`, (td) => td.dataset.level);
    assert.equal(silent, 'warning', 'the silent device is marked in "Sidst set"');
    await settled(page);
    await axeCheck(page, 'compare');
    await shot(page, 'compare-table');

    // Sorting: by CO₂ up and down; by temperature the device without one stays last.
    await page.click('#compare-table th button[data-col="co2"]');
    assert.deepEqual(await names(page), ['3', '2', '1']);
    assert.equal(await page.getAttribute('#compare-table th:nth-child(2)', 'aria-sort'), 'ascending');
    await page.click('#compare-table th button[data-col="co2"]');
    assert.deepEqual(await names(page), ['1', '2', '3']);
    await page.click('#compare-table th button[data-col="temperature"]');
    assert.deepEqual(await names(page), ['1', '2', '3']);
    await page.click('#compare-table th button[data-col="temperature"]');
    assert.deepEqual(await names(page), ['2', '1', '3']);
    assert.equal(new URL(page.url()).searchParams.get('sort'), 'temperature');

    // CSV for Danish Excel: BOM, semicolons, decimal comma, the table's order.
    const [csvDl] = await Promise.all([page.waitForEvent('download'), page.click('#compare-csv')]);
    assert.match(csvDl.suggestedFilename(), /^sammenligning-.*skole-\d{4}-\d{2}-\d{2}\.csv$/);
    const csv = readFileSync(await csvDl.path(), 'utf8');
    assert.ok(csv.startsWith('\uFEFF'), 'UTF-8 byte order mark');
    const lines = csv.slice(1).trimEnd().split('\r\n');
    assert.equal(lines[0], 'Enhed;CO₂ (ppm);Temperatur (Cel);Luftfugtighed (%RH);Batteri (%);Signalstyrke (RSSI) (dBm);Sidst set');
    assert.match(lines[1], new RegExp(`^${tag}-klasse-2;800;22,5;45,5;90;-70;\\d{4}-\\d{2}-\\d{2} \\d{2}:\\d{2}:\\d{2}$`));
    assert.match(lines[2], new RegExp(`^${tag}-klasse-1;1600;21;40;15;-90;`));
    assert.match(lines[3], new RegExp(`^${tag}-klasse-3;600;;;80;;`));
    // The time is Copenhagen's wall clock.
    const wall = new Intl.DateTimeFormat('sv-SE', { timeZone: 'Europe/Copenhagen', dateStyle: 'short', timeStyle: 'medium' })
      .format(new Date((Math.floor(Date.now() / 1000) - 5 * 3600) * 1000));
    assert.equal(lines[3].split(';')[6].slice(0, 13), wall.slice(0, 13));

    // Excel: a valid ZIP whose sheet holds the same rows, numbers as numbers.
    const [xlDl] = await Promise.all([page.waitForEvent('download'), page.click('#compare-xlsx')]);
    assert.match(xlDl.suggestedFilename(), /\.xlsx$/);
    const xl = await xlDl.path();
    execFileSync('unzip', ['-tq', xl]);
    const sheet = execFileSync('unzip', ['-p', xl, 'xl/worksheets/sheet1.xml']).toString();
    assert.match(sheet, new RegExp(`<t xml:space="preserve">${tag}-klasse-2</t></is></c><c r="B2"><v>800</v></c><c r="C2"><v>22.5</v></c>`));
    assert.match(sheet, /<c r="G2" s="1"><v>\d{5}\.\d+<\/v><\/c>/, 'last seen is an Excel date-time');
    assert.match(execFileSync('unzip', ['-l', xl]).toString(), /xl\/workbook\.xml/);

    // The chart of CO₂ for the school's devices over a week, with the rule's limit.
    await page.waitForFunction(() => Number(document.querySelector('#mchart')?.dataset.points) > 100, null, { timeout: 30000 });
    let c = await page.$eval('#mchart', (el) => ({ ...el.dataset }));
    assert.equal(c.devices, '3');
    assert.equal(c.legend, `${tag}-klasse-1,${tag}-klasse-2,${tag}-klasse-3`);
    assert.equal(c.thresholds, '1000');
    assert.equal(c.unit, 'ppm');
    assert.ok(c.hours.split(',').map(Number).some((h) => h < 8 || h >= 16), `all hours: ${c.hours}`);
    // School hours only: weekdays, 8 to 16 Copenhagen time.
    await page.check('#mchart-school');
    await page.waitForFunction(() => document.querySelector('#mchart')?.dataset.school === '1');
    c = await page.$eval('#mchart', (el) => ({ ...el.dataset }));
    const hours = c.hours.split(',').map(Number);
    assert.ok(Number(c.points) > 0 && hours.every((h) => h >= 8 && h < 16), `school hours: ${c.hours}`);
    assert.ok(!/Sat|Sun/.test(c.weekdays), `weekdays: ${c.weekdays}`);
    assert.ok(Number(c.gaps) >= 1, 'the nights break the lines');
    // Fewer devices: untick one.
    await page.uncheck(`#mchart-devices input[value="${s.devs[2].id}"]`);
    await page.waitForFunction(() => document.querySelector('#mchart')?.dataset.devices === '2');
    await page.locator('#mchart').scrollIntoViewIfNeeded();
    await shot(page, 'compare-chart-school-hours');

    // Live: a new reading of the silent klasse-3 over the limit is coloured without a reload
    // (once the stream is open: a reading before it would not be pushed to this page).
    await liveOpen(page);
    await senml(s.devs[2].apiKey, [{ n: 'co2', u: 'ppm', v: 1200, t: Math.floor(Date.now() / 1000) }]);
    await page.waitForFunction((id) => {
      const td = document.querySelector(`#compare-table tr[data-id="${id}"] td[data-key="co2"]`);
      return td?.dataset.level === 'warning' && td.textContent.includes('1.200');
    }, s.devs[2].id, { timeout: 15000 });
    assert.equal(await page.$eval(`#compare-table tr[data-id="${s.devs[2].id}"] td:last-child`, (td) => td.dataset.level ?? null), null,
      'klasse-3 is no longer silent');

    // A reading stored before the stream opens is never pushed: it is shown once the stream opens
    // (the screen re-reads the application's latest values on each open). The page is loaded
    // again with its stream held back until the reading is stored.
    const release = await holdLiveStream(page);
    await page.reload();
    await page.waitForSelector(`#compare-table tr[data-id="${s.devs[1].id}"]`);
    assert.equal(await page.getAttribute('html', 'data-live'), 'closed');
    await senml(s.devs[1].apiKey, [{ n: 'co2', u: 'ppm', v: 1700, t: Math.floor(Date.now() / 1000) }]);
    release();
    await liveOpen(page);
    await page.waitForFunction((id) => {
      const td = document.querySelector(`#compare-table tr[data-id="${id}"] td[data-key="co2"]`);
      return td?.dataset.level === 'warning' && td.textContent.includes('1.700');
    }, s.devs[1].id, { timeout: 15000 });

    // The device list: battery (low in red) and signal columns.
    await go(page, '/devices');
    await page.selectOption('#filter-app', String(s.app.id));
    const row = (n) => page.locator(`#device-table .vrow[data-id="${s.devs[n].id}"]`);
    await row(0).waitFor();
    assert.equal(await row(0).locator('.c-battery').getAttribute('data-low'), '');
    assert.match(await row(0).locator('.c-battery').textContent(), /^15 %/);
    assert.equal(await row(1).locator('.c-battery').getAttribute('data-low'), null);
    assert.equal(await row(0).locator('.c-signal').textContent(), '-90 dBm');
    await page.click('#device-table .vhead button[aria-label$="Batteri"]');
    const order = await page.$$eval('#device-table .vrows .vrow', (rs) => rs.map((r) => r.dataset.id));
    assert.deepEqual(order, [s.devs[0].id, s.devs[2].id, s.devs[1].id].map(String));
    assert.deepEqual(errors, []);
  }));

test('compare on a phone (390 x 844): rows are cards, sorting by a select, nothing overflows', { skip }, () =>
  withSchool(async ({ page, errors, s }) => {
    await page.setViewportSize({ width: 390, height: 844 });
    await page.goto(`${BASE}/compare?app=${s.app.id}`);
    await page.waitForSelector('#compare-table tbody tr');
    await settled(page);
    assert.equal(await page.$eval('#compare-table tbody tr', (tr) => getComputedStyle(tr).display), 'block', 'a row is a card');
    const label = await page.$eval(`#compare-table tr[data-id="${s.devs[0].id}"] td[data-key="co2"]`,
      (td) => getComputedStyle(td, '::before').content);
    assert.equal(label, '"CO₂ (ppm)"');
    await page.selectOption('#compare-sort', 'co2:-1');
    assert.deepEqual(await names(page), ['1', '2', '3']);
    await page.selectOption('#compare-sort', 'co2:1');
    assert.deepEqual(await names(page), ['3', '2', '1']);
    const overflow = () => page.evaluate(() => [document.documentElement.scrollWidth, document.documentElement.clientWidth]);
    let [scroll, width] = await overflow();
    assert.ok(scroll <= width, `/compare: ${scroll} px wide on a ${width} px screen`);
    await axeCheck(page, 'compare-phone');
    await shot(page, 'compare-phone');
    // The overview's health tiles fit the phone too.
    await go(page, '/');
    await page.waitForSelector(`#app-health li[data-app="${s.app.id}"]`);
    [scroll, width] = await overflow();
    assert.ok(scroll <= width, `/: ${scroll} px wide on a ${width} px screen`);
    await page.locator(`#app-health li[data-app="${s.app.id}"]`).scrollIntoViewIfNeeded();
    await shot(page, 'overview-health-phone');
    assert.deepEqual(errors, []);
  }));

test('compare and the health tiles in English, and no English or raw keys in the Danish screen', { skip }, () =>
  withSchool(async ({ page, errors, s }) => {
    const en = JSON.parse(readFileSync(new URL('../../web/src/i18n/en.json', import.meta.url), 'utf8'));
    const da = JSON.parse(readFileSync(new URL('../../web/src/i18n/da.json', import.meta.url), 'utf8'));
    // The English texts of this screen that are not also Danish.
    const english = Object.entries(en).filter(([k, v]) => /^(compare|overview)\./.test(k) && v !== da[k])
      .map(([, v]) => v.replace(/\{\w+\}.*$/, '').trim()).filter((v) => v.length > 3);
    const raw = /\b(compare|overview|devices|status)\.[a-zA-Z_.]+/;
    await page.goto(`${BASE}/compare?app=${s.app.id}`);
    await page.waitForFunction(() => document.querySelector('#mchart')?.dataset.points);
    const daText = await page.innerText('main');
    assert.doesNotMatch(daText, raw);
    for (const e of english) assert.ok(!daText.includes(e), `English in the Danish screen: ${e}`);
    await page.selectOption('#lang-select', 'en');
    await page.waitForFunction(() => document.documentElement.lang === 'en' && document.querySelector('#compare-table'));
    const heads = await page.$$eval('#compare-table thead th', (ths) => ths.map((th) => th.textContent.replace(/ [▲▼]$/, '')));
    assert.deepEqual(heads, ['Device', 'CO₂ (ppm)', 'Temperature (Cel)', 'Humidity (%RH)', 'Battery (%)', 'Signal strength (RSSI) (dBm)', 'Last seen']);
    await page.waitForFunction(() => document.querySelector('#mchart')?.dataset.points);
    assert.doesNotMatch(await page.innerText('main'), raw);
    assert.match(await page.innerText('main'), /School hours only/);
    await go(page, '/');
    await page.waitForSelector(`#app-health li[data-app="${s.app.id}"]`);
    const labels = await page.$$eval(`#app-health li[data-app="${s.app.id}"] dt`, (xs) => xs.map((x) => x.textContent));
    assert.deepEqual(labels, ['Devices', 'Silent', 'In alarm', 'Low battery']);
    await page.selectOption('#lang-select', 'da');
    await page.waitForFunction(() => document.documentElement.lang === 'da');
    assert.deepEqual(errors, []);
  }));
