// A device's CoAP access in the UI (issue 20: "The UI shows … the CoAP/LwM2M credentials of a
// device"): an editor makes a DTLS pre-shared key on an HTTP device's page, sees it once with its
// identity and the addresses, and libcoap's own coap-client sends with exactly what the page
// showed, and its answer carries the downlink queued for it; removing the key stops DTLS. Real
// server with CoAP on (run.sh), real coap-client.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { BASE, skip, useBrowser, adminPage, go, orgOf, tagOf, makeDevice, axeCheck, shot, json } from './lib.mjs';

useBrowser();
const run = promisify(execFile);

// coap-client over DTLS; resolves to what it printed, or to its error output when it failed.
async function coapsPost(uri, identity, key, payload) {
  try {
    const r = await run('coap-client-openssl', ['-m', 'post', '-t', '50', '-e', payload, '-u', identity, '-k', key, '-B', '5', uri]);
    return { ok: true, out: r.stdout + r.stderr };
  } catch (e) {
    return { ok: false, out: `${e.stdout ?? ''}${e.stderr ?? ''}` };
  }
}

test('CoAP: an editor makes a DTLS key on the device page, the device sends with it, removing it stops DTLS', { skip }, async () => {
  const { context, page, errors } = await adminPage();
  const org = await orgOf(context);
  const tag = tagOf();
  const dev = await makeDevice(context, org, `${tag}-coap`, 'http');
  const lora = await makeDevice(context, org, `${tag}-lora`, 'lorawan');
  try {
    await go(page, `/devices/${dev.id}`);
    await page.waitForSelector('#coap-status p');
    assert.match(await page.textContent('#coap-status'), /Ingen DTLS-nøgle endnu/);
    assert.equal(await page.locator('#coap-remove').isVisible(), false, 'nothing to remove yet');
    const identity = `${tag}-psk`;
    await page.fill('#coap-panel input[name="identity"]', identity);
    await page.click('#coap-new-key');
    await page.waitForSelector('#coap-new-secret');
    const key = (await page.textContent('#coap-new-secret')).trim();
    assert.ok(key.length >= 24, 'a key of at least 24 characters');
    const rows = await page.$$eval('#coap-secret .secret-rows dd', (dds) => dds.map((d) => d.textContent.trim()));
    assert.equal(rows[0], identity);
    const dtls = rows.find((r) => r.startsWith('coaps://'));
    assert.ok(dtls, `the DTLS address is shown (${rows.join(' | ')})`);
    assert.match(rows.find((r) => r.startsWith('coap://')) ?? '', /\/ingest\?k=…$/);
    assert.match(await page.textContent('#coap-status'), new RegExp(`identiteten ${identity}`));
    await axeCheck(page, 'coap-key');
    await shot(page, 'coap-key');

    // A downlink queued for the device rides on the answer to its next uplink.
    const dl = await json(await context.request.post(`${BASE}/api/v1/devices/${dev.id}/downlink`, { data: { hex: '4f4b21' } }), 202);
    assert.equal(dl.status, 'queued');
    // The device sends with what the page showed; the reading is stored, the answer carries "OK!".
    const sent = await coapsPost(dtls, identity, key, '{"temperature":21.5}');
    assert.ok(sent.ok, `coap-client over DTLS: ${sent.out}`);
    assert.match(sent.out, /OK!/, 'the answer carries the queued downlink');
    await go(page, `/devices/${dev.id}`);
    await page.waitForSelector('#downlink-history table.downlinks tbody tr');
    assert.match(await page.textContent('#downlink-history table.downlinks tbody tr'), /4f 4b 21.*sendt/);
    const latest = await json(await context.request.get(`${BASE}/api/v1/devices/${dev.id}/latest`), 200);
    assert.deepEqual(latest.items.map((r) => [r.key, r.value]), [['temperature', 21.5]]);
    // The key is never shown again: after a reload only the identity.
    await go(page, `/devices/${dev.id}`);
    await page.waitForSelector('#coap-status p');
    assert.equal(await page.locator('#coap-new-secret').count(), 0);
    assert.equal((await page.content()).includes(key), false, 'the key is not in the page');

    page.once('dialog', (d) => void d.accept());
    await page.click('#coap-remove');
    await page.waitForFunction(() => /Ingen DTLS-nøgle/.test(document.querySelector('#coap-status')?.textContent ?? ''));
    const refused = await coapsPost(dtls, identity, key, '{"temperature":22}');
    assert.equal(refused.ok && !/4\.01|failed|error/i.test(refused.out), false, `DTLS after removal: ${refused.out}`);
    // A LoRaWAN device has no CoAP panel.
    await go(page, `/devices/${lora.id}`);
    assert.equal(await page.locator('#coap-panel').count(), 0);
    assert.deepEqual(errors, []);
  } finally {
    for (const d of [dev, lora]) await context.request.delete(`${BASE}/api/v1/devices/${d.id}`);
    await context.close();
  }
});
