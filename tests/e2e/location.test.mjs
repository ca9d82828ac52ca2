// Issue 21 §2: a device's location is picked on a map in the device form — a click on the map,
// the browser's position, an address search, or typed coordinates that move the marker — and
// saved with the device.
// The map has no tiles in the test environment (no internet); clicks still give coordinates.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BASE, skip, useBrowser, adminPage, go, json, orgOf, tagOf, axeCheck, shot } from './lib.mjs';

useBrowser();

test('device form: the location is picked on the map, from the browser position or typed', { skip }, async () => {
  const { context, page, errors } = await adminPage('da-DK');
  const org = await orgOf(context);
  const tag = tagOf();
  let created = null;
  try {
    await go(page, '/devices/new');
    assert.equal(await page.locator('#location-map').count(), 0, 'no map until asked for');
    await page.click('#pick-location');
    await page.waitForSelector('#location-map[data-ready="1"]');
    assert.equal(await page.getAttribute('#location-map', 'data-marker'), '', 'no location yet');
    // A click on the map (its middle: Denmark, where it opens) sets both fields.
    await page.locator('#location-map').scrollIntoViewIfNeeded();
    const box = await page.locator('#location-map').boundingBox();
    await page.mouse.click(box.x + box.width / 2, box.y + box.height / 2);
    await page.waitForFunction(() => document.querySelector('#location-map').dataset.marker !== '');
    const lat = Number(await page.inputValue('.row input[type=number][min="-90"]'));
    const lon = Number(await page.inputValue('.row input[type=number][min="-180"]'));
    assert.ok(lat > 54 && lat < 58 && lon > 8 && lon < 13, `${lat}, ${lon} is in Denmark`);
    assert.equal(await page.getAttribute('#location-map', 'data-marker'), `${lat},${lon}`);
    // The browser's position (asked only on this click).
    await context.grantPermissions(['geolocation'], { origin: BASE });
    await context.setGeolocation({ latitude: 55.6760968, longitude: 12.5683371 });
    await page.click('#my-position');
    await page.waitForFunction(() => document.querySelector('#location-map').dataset.marker === '55.676097,12.568337');
    assert.equal(await page.inputValue('.row input[type=number][min="-90"]'), '55.676097');
    // An address search: the server asks its geocoder (run.sh's stand-in for DAWA); a place picked
    // sets the fields and the marker. Enter searches and does not submit the device form.
    await page.fill('#address-search', 'rådhuspladsen');
    await page.press('#address-search', 'Enter');
    await page.waitForSelector('#address-results button >> nth=1');
    assert.deepEqual(await page.$$eval('#address-results button', (bs) => bs.map((b) => b.textContent)),
      ['Rådhuspladsen 1, 1550 København V', 'Rådhuspladsen 2, 8000 Aarhus C']);
    assert.equal(await page.locator('#device-api-key').count(), 0, 'the form was not submitted');
    await axeCheck(page, 'device-form-address');
    await page.click('#address-results button >> nth=0');
    await page.waitForFunction(() => document.querySelector('#location-map').dataset.marker === '55.6757,12.5687');
    assert.equal(await page.inputValue('.row input[type=number][min="-90"]'), '55.6757');
    await page.fill('#address-search', 'Ingen sådan vej');
    await page.click('#address-search-go');
    await page.waitForSelector('text=Ingen adresse fundet.');
    // Typed coordinates move the marker.
    await page.fill('.row input[type=number][min="-180"]', '12.5');
    await page.waitForFunction(() => document.querySelector('#location-map').dataset.marker === '55.6757,12.5');
    await axeCheck(page, 'device-form-map');
    await shot(page, 'device-form-map');
    // Saved with the device.
    await page.fill('form.form input[type=text][required]', `${tag}-placeret`);
    await page.click('form.form button[type=submit]');
    await page.waitForSelector('#device-api-key');  // an HTTP device: its key, shown once after the save
    const devices = (await json(await context.request.get(`${BASE}/api/v1/organizations/${org}/devices?limit=500`), 200)).items;
    created = devices.find((d) => d.name === `${tag}-placeret`);
    assert.ok(created, 'the device was created');
    assert.deepEqual(created.location, { lat: 55.6757, lon: 12.5 });
    assert.deepEqual(errors, []);
  } finally {
    if (created) await context.request.delete(`${BASE}/api/v1/devices/${created.id}`);
    await context.close();
  }
});
