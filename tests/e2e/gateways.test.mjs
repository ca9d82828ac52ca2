// The gateway screens (issue 20: "The UI shows gateways (list, map layer, history chart, heard
// devices)"), against the real server with the demo's two gateways: a list with their state, a
// gateway's availability over 7 and 30 days with its outage, its packets per hour and per day,
// the devices it hears (from the simulator's uplinks through the broker), and the map's gateway
// layer that can be turned off (kept in the URL).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BASE, skip, useBrowser, adminPage, go, shot, axeCheck } from './lib.mjs';

useBrowser();

const CENTRE = '7276ff002e0d3e00';
const UNIVERSITY = '7276ff002e0d3e01';  // the demo's gateway with an outage three days ago

test('gateways: list, availability with the outage, packets, heard devices', { skip }, async () => {
  const { page, errors } = await adminPage();
  await go(page, '/gateways');
  const rows = await page.$$eval('a[data-gateway]', (as) => as.map((a) => a.dataset.gateway));
  assert.deepEqual(rows.sort(), [CENTRE, UNIVERSITY]);
  const states = await page.$$eval('.gateways .badge', (bs) => bs.map((b) => b.dataset.state));
  assert.deepEqual(states, ['online', 'online']);
  assert.match(await page.textContent('#gw-count'), /^2 gateways, 0 offline/);
  await axeCheck(page, 'gateways');

  await page.click(`a[data-gateway="${UNIVERSITY}"]`);
  await page.waitForSelector('#gw-availability');
  assert.equal(await page.textContent('#page-title'), `Gateway ${UNIVERSITY}`);
  // The last 7 days: one outage of 2 h 20 min, online the rest of the time.
  const avail = await page.$eval('#gw-availability', (el) => ({ share: Number(el.dataset.share), n: Number(el.dataset.outages) }));
  assert.equal(avail.n, 1);
  const expected = 1 - (2 * 60 + 20) / (7 * 24 * 60);
  assert.ok(Math.abs(avail.share - expected) < 0.001, `share online ${avail.share}, expected ${expected}`);
  assert.match(await page.textContent('#gw-avail-summary'), /^Online 98,6 % af den kendte tid; afbrydelser: 1\.$/);
  assert.equal(await page.$$eval('#gw-avail-bar [data-state="offline"]', (s) => s.length), 1);
  assert.match(await page.textContent('.outages tbody tr td:nth-child(3)'), /^2 t\. 20 min\.$/);
  // Packets per hour over the week: every hour but those of the outage (hours with no stats break the line).
  await page.waitForFunction(() => Number(document.querySelector('#gw-packets')?.dataset.points) > 0);
  const hourly = Number(await page.getAttribute('#gw-packets', 'data-points'));
  assert.ok(hourly >= 160 && hourly <= 169, `hourly buckets: ${hourly}`);
  assert.ok(Number(await page.getAttribute('#gw-packets', 'data-gaps')) >= 1, 'the outage is a gap in the chart');
  assert.equal(await page.getAttribute('#gw-packets', 'data-legend'), 'Modtaget OK,Modtaget,Sendt');
  await shot(page, 'gateway');
  await axeCheck(page, 'gateway');

  // 30 days: per day, the same one outage.
  await page.selectOption('#gw-range', '30d');
  await page.waitForFunction(() => {
    const n = Number(document.querySelector('#gw-packets')?.dataset.points);
    return n > 0 && n <= 31;
  });
  assert.ok(Number(await page.getAttribute('#gw-packets', 'data-points')) >= 29);
  assert.equal(await page.getAttribute('#gw-availability', 'data-outages'), '1');

  // The devices it hears: the simulator's LoRaWAN uplinks through this gateway (reload until the
  // server has recorded them: it writes gateway sightings about once a second).
  const deadline = Date.now() + 60000;
  let heard = 0;
  for (;;) {
    heard = Number(await page.getAttribute('#gw-heard', 'data-count').catch(() => 0)) || 0;
    if (heard > 0 || Date.now() > deadline) break;
    await page.waitForTimeout(1000);
    await page.reload();
    await page.waitForSelector('#gw-heard');
  }
  assert.ok(heard > 0, 'the gateway hears some of the demo devices');
  const link = await page.getAttribute('#gw-heard a[href^="/devices/"]', 'href');
  assert.match(link, /^\/devices\/\d+$/);
  assert.deepEqual(errors, []);
});

test('map: the gateways are a layer of their own that can be turned off', { skip }, async () => {
  const { page, errors } = await adminPage();
  await go(page, '/map');
  await page.waitForSelector('#map .gw-marker');
  assert.equal(await page.$$eval('#map .gw-marker', (ms) => ms.length), 2);
  const titles = (await page.$$eval('#map .gw-marker', (ms) => ms.map((m) => m.getAttribute('title')))).sort();
  assert.deepEqual(titles, [`Gateway ${CENTRE} – Online`, `Gateway ${UNIVERSITY} – Online`]);
  await page.uncheck('#map-gateways');
  await page.waitForFunction(() => document.querySelectorAll('#map .gw-marker').length === 0);
  assert.equal(new URL(page.url()).searchParams.get('gateways'), '0');
  // The link keeps the choice; the popup of a gateway opens its page.
  await page.goto(`${BASE}/map`);
  await page.waitForSelector('#map .gw-marker');
  await page.click(`#map .gw-marker[title^="Gateway ${CENTRE}"]`);
  await page.click('.leaflet-popup a[href^="/gateways/"]');
  await page.waitForSelector('#gw-availability');
  assert.equal(new URL(page.url()).pathname, `/gateways/${CENTRE}`);
  assert.equal(await page.getAttribute('#gw-availability', 'data-outages'), '0');
  assert.deepEqual(errors, []);
});
