// Browser tests of the decoder bench and the message list (issue 15 items 2, 3 and 7), against
// the real bysans with the demo (see run.sh): the contract select chooses the entry point and
// is saved with the decoder, the bench shows the function that ran, the decoder's errors (red)
// and warnings (amber) and the data kept with them; a device's messages show the stored errors
// and warnings. Everything created carries a unique tag and is removed again.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BASE, ADMIN, newPage, login, axeCheck, shot, settled, skip, useBrowser, adminPage, go, json, orgOf } from './lib.mjs';

useBrowser();

const NOTES = "function decodeUplink(input) { return { data: { b0: input.bytes[0] }, " +
  "warnings: ['battery low'], errors: ['frame type 42 unknown'] }; }";
const HELPER = 'function decodeUplink(x) { return { data: { helper: 1 } }; }\n' +
  'function decode(payload, metadata) { return { right: 1 }; }';

async function runBench(page, code, contract, payload) {
  await page.selectOption('#decoder-select', '');
  await page.fill('#decoder-code', code);
  await page.selectOption('#decoder-contract', contract);
  await page.fill('#decoder-payload', payload);
  await page.click('#decoder-run');
  await page.waitForSelector('#decoder-result h3');
}

for (const locale of ['da-DK', 'en-GB']) {
  test(`decoder bench (${locale}): contract, entry point, errors and warnings`, { skip }, async () => {
    const { context, page, errors } = await adminPage(locale);
    await go(page, '/decoders');
    await runBench(page, NOTES, 'ttn', '2a');
    assert.equal(await page.textContent('#decoder-entry code'), 'decodeUplink');
    assert.match(await page.textContent('#decoder-errors .notice.error'), /frame type 42 unknown/);
    assert.match(await page.textContent('#decoder-warnings .notice.warn'), /battery low/);
    assert.match(await page.textContent('#decoder-output'), /"b0": 42/, 'data kept with the errors');
    await axeCheck(page, `decoder-bench-notes-${locale}`);
    await shot(page, `decoder-bench-notes-${locale}`);
    // The contract chooses the entry point, not the names in the code.
    await runBench(page, HELPER, 'os2iot', '01');
    assert.equal(await page.textContent('#decoder-entry code'), 'decode');
    assert.match(await page.textContent('#decoder-output'), /right/);
    await runBench(page, HELPER, 'ttn', '01');
    assert.equal(await page.textContent('#decoder-entry code'), 'decodeUplink');
    assert.deepEqual(errors, []);
    await context.close();
  });
}

test('a decoder saved with a contract; its stored errors and warnings in the message list', { skip }, async () => {
  const { context, page, errors } = await adminPage('en-GB');
  const org = await orgOf(context);
  const tag = `e2e${Date.now().toString(36)}`;
  await go(page, '/decoders');
  await page.selectOption('#decoder-select', '');
  await page.fill('#decoder-name', tag);
  await page.fill('#decoder-code', HELPER);
  await page.selectOption('#decoder-contract', 'os2iot');
  await page.click('#decoder-save');
  await page.waitForSelector('main .notice.ok');
  const list = await json(await context.request.get(`${BASE}/api/v1/organizations/${org}/decoders?limit=500`), 200);
  const saved = list.items.find((d) => d.name === tag);
  assert.ok(saved, 'the decoder was saved');
  assert.equal(saved.contract, 'os2iot');
  // A device of its own with a decoder that reports errors and warnings.
  const apps = (await json(await context.request.get(`${BASE}/api/v1/organizations/${org}/applications`), 200)).items;
  const dev = await json(await context.request.post(`${BASE}/api/v1/applications/${apps[0].id}/devices`,
    { data: { name: `${tag}-dev`, transport: 'http' } }), 201);
  const notes = await json(await context.request.post(`${BASE}/api/v1/organizations/${org}/decoders`,
    { data: { name: `${tag}-notes`, code: NOTES, contract: 'ttn' } }), 201);
  try {
    await json(await context.request.put(`${BASE}/api/v1/devices/${dev.id}/decoder`, { data: { decoderId: notes.id } }), 200);
    const up = await context.request.post(`${BASE}/api/v1/receive-data?apiKey=${encodeURIComponent(dev.apiKey)}`,
      { data: { x: 1 } });
    assert.ok(up.status() < 300, `ingest answered ${up.status()}`);
    await go(page, `/devices/${dev.id}`);
    await page.waitForSelector('table.messages .note-error');
    assert.match(await page.textContent('table.messages .note-error'), /frame type 42 unknown/);
    assert.match(await page.textContent('table.messages .note-warn'), /battery low/);
    await page.locator('table.messages').scrollIntoViewIfNeeded();
    await axeCheck(page, 'device-messages-notes');
    await shot(page, 'device-messages-notes');
  } finally {
    await context.request.delete(`${BASE}/api/v1/devices/${dev.id}`);
    await context.request.delete(`${BASE}/api/v1/decoders/${notes.id}`);
    await context.request.delete(`${BASE}/api/v1/decoders/${saved.id}`);
  }
  assert.deepEqual(errors, []);
  await context.close();
});
