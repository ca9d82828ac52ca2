// The map filtered by application and status (issue 21 §4), the choice kept in the URL so a
// filtered map can be linked. Against the real server: an application of its own with two located
// devices, one reporting (ok) and one that never did (unknown).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BASE, skip, useBrowser, adminPage, go, json, orgOf, tagOf, shot, axeCheck } from './lib.mjs';

useBrowser();

test('map: filter by application and status, kept in the URL', { skip }, async () => {
  const { context, page, errors } = await adminPage();
  const org = await orgOf(context);
  const tag = tagOf();
  const app = await json(await context.request.post(`${BASE}/api/v1/organizations/${org}/applications`,
    { data: { name: `${tag} kort` } }), 201);
  const dev = async (n, lat) => json(await context.request.post(`${BASE}/api/v1/applications/${app.id}/devices`, {
    data: { name: `${tag}-${n}`, transport: 'http', expectedIntervalS: 600, location: { lat, lon: 10.2 } },
  }), 201);
  const devs = [await dev('ok', 56.15), await dev('unknown', 56.16)];
  try {
    const r = await fetch(`${BASE}/api/v1/receive-data?apiKey=${encodeURIComponent(devs[0].apiKey)}`, {
      method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ temperature: 20 }),
    });
    assert.ok(r.status < 300, `ingest answered ${r.status}`);
    await page.goto(`${BASE}/map`);  // a fresh load: the organisation's data with the new application
    await page.waitForSelector('#map .leaflet-marker-icon', { timeout: 30000 });
    const shown = () => page.$eval('#map', (m) => Number(m.dataset.shown));
    const all = await shown();
    assert.ok(all >= 2, `all located devices: ${all}`);

    // By application: the two devices, and the URL says so.
    await page.selectOption('#map-app', String(app.id));
    assert.equal(await shown(), 2);
    assert.equal(new URL(page.url()).searchParams.get('app'), String(app.id));
    await page.waitForFunction(() => document.querySelectorAll('#map .dev-marker').length === 2);
    const titles = async () => (await page.$$eval('#map .dev-marker', (ms) => ms.map((m) => m.getAttribute('title')))).sort();
    assert.deepEqual(await titles(), [`${tag}-ok – Online`, `${tag}-unknown – Ingen data endnu`].sort());

    // And by status: only the device that reported; its marker shows its status.
    await page.selectOption('#map-status', 'ok');
    assert.equal(await shown(), 1);
    await page.waitForFunction(() => document.querySelectorAll('#map .dev-marker').length === 1);
    assert.equal(await page.getAttribute('#map .dev-marker', 'title'), `${tag}-ok – Online`);
    assert.match(await page.getAttribute('#map .dev-marker', 'class'), /st-ok/);
    assert.match(await page.textContent('#map-count'), /^1 /);
    const linked = new URL(page.url());
    assert.equal(linked.searchParams.get('status'), 'ok');
    await shot(page, 'map-filter');
    await axeCheck(page, 'map-filter');

    // The link opens the same filtered map.
    await page.goto(`${BASE}/map?app=${app.id}&status=unknown`);
    await page.waitForSelector('#map .dev-marker');
    assert.equal(await page.inputValue('#map-app'), String(app.id));
    assert.equal(await page.inputValue('#map-status'), 'unknown');
    assert.equal(await shown(), 1);
    assert.match(await page.getAttribute('#map .dev-marker', 'title'), new RegExp(`^${tag}-unknown`));
    // Back to all: the filter leaves the URL.
    await page.selectOption('#map-app', '');
    await page.selectOption('#map-status', '');
    assert.equal(await shown(), all);
    assert.equal(new URL(page.url()).search, '');
    await go(page, '/devices');
    assert.deepEqual(errors, []);
  } finally {
    for (const d of devs) await context.request.delete(`${BASE}/api/v1/devices/${d.id}`);
    await context.request.delete(`${BASE}/api/v1/applications/${app.id}`);
    await context.close();
  }
});
