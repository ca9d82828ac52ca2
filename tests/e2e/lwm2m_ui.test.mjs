// A device's LwM2M side in the UI (issue 20): libcoap's coap-client registers an HTTP device over
// plain UDP (its ingest key as `k=`, bysans' rule for unsecured mode) in queue mode and pushes a
// Send; the device page shows the registration with its objects named, the reading, and an
// editor queues a write through the form, listed as queued or sent. Real server, real coap-client.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { BASE, skip, useBrowser, adminPage, go, orgOf, tagOf, makeDevice, axeCheck, shot, json } from './lib.mjs';

useBrowser();
const run = promisify(execFile);

// The CoAP server's UDP port, as the UI learns it.
async function coapPort(context) {
  const cfg = await json(await context.request.get(`${BASE}/api/v1/ui-config`), 200);
  assert.ok(cfg.coap?.udpPort, 'CoAP listens (tests/e2e/run.sh turns it on)');
  return cfg.coap.udpPort;
}

async function coap(args) {
  const r = await run('coap-client-openssl', ['-B', '5', ...args]);
  return r.stdout + r.stderr;
}

test('LwM2M: a registered device shows its registration, objects and a queued write', { skip }, async () => {
  const { context, page, errors } = await adminPage();
  const org = await orgOf(context);
  const tag = tagOf();
  const dev = await makeDevice(context, org, `${tag}-nb`, 'http');
  try {
    const port = await coapPort(context);
    const key = encodeURIComponent(dev.apiKey);
    await coap(['-m', 'post', '-t', '40', '-e', '</1/0>,</3/0>,</3303/0>,</3424/0>',
      `coap://127.0.0.1:${port}/rd?ep=${tag}-meter&lt=600&lwm2m=1.1&b=UQ&k=${key}`]);
    const reg = await json(await context.request.get(`${BASE}/api/v1/devices/${dev.id}/lwm2m`), 200);
    assert.equal(reg.endpoint, `${tag}-meter`);
    await coap(['-m', 'post', '-t', '110', '-e', '[{"bn":"/3303/0/","n":"5700","v":7.5}]',
      `coap://127.0.0.1:${port}/dp?k=${key}`]);

    await go(page, `/devices/${dev.id}`);
    await page.waitForSelector('#lwm2m-registration dl');
    assert.equal(await page.getAttribute('#lwm2m-registration', 'data-registered'), 'true');
    assert.equal(await page.textContent('#lwm2m-state'), 'Registreret');
    assert.match(await page.textContent('#lwm2m-registration'), new RegExp(`${tag}-meter`));
    assert.match(await page.textContent('#lwm2m-registration'), /kø-tilstand/);
    const objects = await page.$$eval('#lwm2m-objects li', (ls) => ls.map((l) => l.textContent));
    assert.deepEqual(objects, ['/1/0 (LwM2M-server)', '/3/0 (Enhed)', '/3303/0 (Temperatur)', '/3424/0 (Vandmåler)']);
    // What bysans observes on the device is listed (the observe is sent about a second after the
    // registration; coap-client serves nothing, so it shows 0 notifications or nothing yet).
    assert.ok(await page.$('#lwm2m-observations'));
    const kinds = await page.$$eval('#lwm2m-kind option', (os) => os.map((o) => o.value));
    assert.deepEqual(kinds, ['read', 'write', 'execute', 'observe', 'cancel-observe']);
    // The Send's temperature is the device's latest reading.
    assert.match(await page.textContent('[data-live-value="temperature"]'), /7,5/);

    await page.selectOption('#lwm2m-kind', 'write');
    await page.fill('#lwm2m-path', '/3/0/14');
    await page.fill('#lwm2m-value', '+01:00');
    await page.click('#lwm2m-queue');
    await page.waitForSelector('#lwm2m-operations table');
    const row = await page.$eval('#lwm2m-operations tbody tr', (tr) => [...tr.cells].map((c) => c.textContent));
    assert.deepEqual(row.slice(0, 3), ['Skriv', '/3/0/14', '+01:00']);
    assert.ok(['I kø', 'Sendt', 'Fejlet'].includes(row[3]), row[3]);
    const ops = await json(await context.request.get(`${BASE}/api/v1/devices/${dev.id}/lwm2m/operations`), 200);
    assert.equal(ops.items[0].kind, 'write');
    // A bad path: the server's error, shown in the form.
    await page.selectOption('#lwm2m-kind', 'read');
    await page.fill('#lwm2m-path', 'not-a-path');
    await page.click('#lwm2m-queue');
    await page.waitForSelector('#lwm2m-msg .notice.error');
    await axeCheck(page, 'lwm2m');
    await shot(page, 'lwm2m');
    assert.deepEqual(errors.filter((e) => !/status of 400/.test(e)), []);
  } finally {
    await context.request.delete(`${BASE}/api/v1/devices/${dev.id}`);
    await context.close();
  }
});
