// Responsible contacts (issue 20) in the UI: the device page lists the device's own contacts and
// those it inherits from its application, with where each came from, in Danish and English; the
// administration lists each application's contacts. Against the real server.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BASE, skip, useBrowser, adminPage, go, json, orgOf, tagOf, axeCheck } from './lib.mjs';

useBrowser();

test('the device page lists its own and its application\'s contacts; the administration lists the application\'s', { skip }, async () => {
  const { context, page, errors } = await adminPage();
  const org = await orgOf(context);
  const tag = tagOf();
  const app = await json(await context.request.post(`${BASE}/api/v1/organizations/${org}/applications`,
    { data: { name: `${tag} kontakter` } }), 201);
  try {
    const dev = await json(await context.request.post(`${BASE}/api/v1/applications/${app.id}/devices`,
      { data: { name: `${tag}-dev`, transport: 'http' } }), 201);
    await json(await context.request.put(`${BASE}/api/v1/devices/${dev.id}/contacts`,
      { data: { items: [{ name: 'Driftsvagt', phone: '+45 20 00 00 01' }] } }), 200);
    await json(await context.request.put(`${BASE}/api/v1/applications/${app.id}/contacts`,
      { data: { items: [{ name: 'Tilsyn', email: 'tilsyn@kommune.dk', role: 'tilsynsførende' }] } }), 200);

    await go(page, `/devices/${dev.id}`);
    const box = `[data-contacts="/api/v1/devices/${dev.id}/contacts/effective"]`;
    await page.waitForSelector(`${box} table`);
    const rows = await page.$$eval(`${box} tbody tr`, (trs) => trs.map((tr) => [...tr.cells].map((c) => c.textContent)));
    assert.deepEqual(rows, [
      ['Driftsvagt', '', '+4520000001', '', 'denne enhed'],
      ['Tilsyn', 'tilsynsførende', '', 'tilsyn@kommune.dk', 'applikationen'],
    ]);
    assert.match(await page.textContent(`section[aria-label="Ansvarlige kontakter"] h2`), /Ansvarlige kontakter/);
    await axeCheck(page, 'device-contacts');

    await go(page, '/admin');
    await page.click('#app-contacts summary');
    const appBox = `[data-contacts="/api/v1/applications/${app.id}/contacts"]`;
    await page.waitForSelector(`${appBox} table`);
    assert.match(await page.textContent(appBox), /tilsyn@kommune\.dk/);
    assert.deepEqual(errors, []);
  } finally {
    await context.request.delete(`${BASE}/api/v1/applications/${app.id}`);
  }
});

test('in English, a device without contacts says so', { skip }, async () => {
  const { context, page } = await adminPage('en-GB');
  const org = await orgOf(context);
  const tag = tagOf();
  const app = await json(await context.request.post(`${BASE}/api/v1/organizations/${org}/applications`,
    { data: { name: `${tag} contacts` } }), 201);
  try {
    const dev = await json(await context.request.post(`${BASE}/api/v1/applications/${app.id}/devices`,
      { data: { name: `${tag}-dev`, transport: 'http' } }), 201);
    await go(page, `/devices/${dev.id}`);
    const box = `[data-contacts="/api/v1/devices/${dev.id}/contacts/effective"]`;
    await page.waitForSelector(`${box} p`);
    assert.match(await page.textContent(box), /No responsible contacts\./);
  } finally {
    await context.request.delete(`${BASE}/api/v1/applications/${app.id}`);
  }
});
