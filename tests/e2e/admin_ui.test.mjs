// Administration without the API (issue 21 §2, the decoder part): an editor attaches a decoder
// to a device on its page and to an application in the administration, and a viewer sees the
// choice but cannot change it. Against the real server.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BASE, VIEWER, skip, useBrowser, adminPage, newPage, login, go, json, orgOf, tagOf, makeDevice, axeCheck } from './lib.mjs';

useBrowser();

test('decoders are attached to a device and an application in the UI; a viewer cannot change it', { skip }, async () => {
  const { context, page, errors } = await adminPage();
  const org = await orgOf(context);
  const tag = tagOf();
  const dev = await makeDevice(context, org, `${tag}-dek`, 'http');
  const dec = await json(await context.request.post(`${BASE}/api/v1/organizations/${org}/decoders`, {
    data: { name: `${tag} codec`, code: 'function decodeUplink(input) { return {data: {n: input.bytes.length}}; }' },
  }), 201);
  const viewer = await newPage();
  try {
    await go(page, `/devices/${dev.id}`);
    const sel = `select[data-decoder-for="/api/v1/devices/${dev.id}"]`;
    await page.waitForSelector(`${sel}[data-loaded]`);
    assert.equal(await page.inputValue(sel), '', 'no decoder of its own yet');
    await page.selectOption(sel, String(dec.id));
    await page.waitForSelector('.decoder-picker .notice.ok');
    const after = await json(await context.request.get(`${BASE}/api/v1/devices/${dev.id}/decoder`), 200);
    assert.equal(after.decoderId, dec.id);
    await axeCheck(page, 'device-decoder');
    // The application's decoder, in the administration.
    await go(page, '/admin');
    const appSel = `select[data-decoder-for="/api/v1/applications/${dev.applicationId}"]`;
    await page.waitForSelector(`${appSel}[data-loaded]`);
    const before = (await json(await context.request.get(`${BASE}/api/v1/applications/${dev.applicationId}/decoder`), 200)).decoderId;
    await page.selectOption(appSel, String(dec.id));
    await page.waitForFunction(async (p) => (await (await fetch(p)).json()).decoderId !== null, `/api/v1/applications/${dev.applicationId}/decoder`);
    assert.equal((await json(await context.request.get(`${BASE}/api/v1/applications/${dev.applicationId}/decoder`), 200)).decoderId, dec.id);
    // Put the demo application's decoder back as it was.
    await json(await context.request.put(`${BASE}/api/v1/applications/${dev.applicationId}/decoder`, { data: { decoderId: before } }), 200);
    // A viewer sees the device's decoder, disabled.
    await login(viewer.page, VIEWER);
    await go(viewer.page, `/devices/${dev.id}`);
    await viewer.page.waitForSelector(`${sel}[data-loaded]`);
    assert.equal(await viewer.page.inputValue(sel), String(dec.id));
    assert.equal(await viewer.page.$eval(sel, (s) => s.disabled), true);
    assert.deepEqual(errors, []);
  } finally {
    await context.request.delete(`${BASE}/api/v1/devices/${dev.id}`);
    await context.request.delete(`${BASE}/api/v1/decoders/${dec.id}`);
    await viewer.context.close();
    await context.close();
  }
});
