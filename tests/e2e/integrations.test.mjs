// Browser tests of the integrations screen (ChirpStack and external MQTT
// brokers, unknown DevEUIs, gateways) against the real bysans with the demo
// (see run.sh). Brokers point at 127.0.0.1:1, where nothing listens, so the
// connection status the API reports is an error, which the screen must show.
// Each test removes what it created.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BASE, ADMIN, VIEWER, newPage, login, axeCheck, shot, settled, skip, useBrowser, go, json, orgOf, tagOf } from './lib.mjs';

useBrowser();

const DEAD = 'mqtt://127.0.0.1:1';
// The deliberate 400 / 409 answers are logged by the browser as failed resources.
const expected = (e) => /status of (400|409) .*\/api\/v1\/(organizations\/\d+\/integrations\/chirpstack|integrations\/(chirpstack|mqtt)\/\d+|applications\/\d+\/integrations\/mqtt)$/.test(e);

async function openScreen(page) {
  await page.click('header nav a[href="/integrations"]');
  await page.waitForSelector('#chirpstack-list');
  await page.waitForSelector('#gateways');
  await settled(page);
}

const row = (page, list, name) => page.locator(`#${list} tr`, { has: page.locator('.int-name', { hasText: name }) });

test('integrations: admin creates, edits and deletes a ChirpStack integration; status and API errors are shown', { skip }, async () => {
  const { context, page, errors } = await newPage();
  await login(page, ADMIN);
  const org = await orgOf(context);
  const tag = tagOf();
  // Another integration on the same broker holds a client id (for the 409 below).
  const other = await json(await context.request.post(`${BASE}/api/v1/organizations/${org}/integrations/chirpstack`,
    { data: { name: `${tag} anden`, url: DEAD, clientId: `${tag}-taken`, enabled: false } }), 201);
  try {
    await openScreen(page);
    assert.equal(await page.textContent('main h1'), 'Integrationer');
    // Create through the form.
    await page.click('#cs-new');
    assert.ok(await page.locator('#int-ca-cert').isHidden(), 'no CA field for an empty url');
    await page.fill('#int-name', `${tag} cs`);
    await page.fill('#int-url', DEAD);
    assert.ok(await page.locator('#int-ca-cert').isHidden(), 'no CA field for mqtt://');
    await page.fill('#int-username', 'bysans');
    await page.fill('#int-password', 'hemmelig-1');
    // 409: the client id is taken on that broker; the message is in the form's alert box.
    await page.fill('#int-client-id', `${tag}-taken`);
    await page.click('#int-save');
    await page.waitForSelector('#int-form-error [role=alert]');
    assert.match(await page.textContent('#int-form-error'), /already used by another integration/);
    assert.equal(await page.locator('#integration-form').count(), 1, 'the form stays open');
    await axeCheck(page, 'integrations-form-error');
    await page.fill('#int-client-id', '');
    await page.click('#int-save');
    const r = row(page, 'chirpstack-list', `${tag} cs`);
    await r.waitFor();
    assert.match(await page.textContent('#int-msg'), /oprettet/);
    assert.equal(await page.locator('#integration-form').count(), 0, 'the form closes');
    // Nothing listens on port 1: the live status is an error with the reason.
    await r.locator('[data-status="error"] .int-error').waitFor({ timeout: 30000 });
    assert.match(await r.locator('.int-status').textContent(), /Fejl/);
    assert.ok((await r.locator('.int-error').textContent()).trim().length > 0, 'last error shown');
    const items = (await json(await context.request.get(`${BASE}/api/v1/organizations/${org}/integrations/chirpstack`), 200)).items;
    const made = items.find((i) => i.name === `${tag} cs`);
    assert.ok(made && made.hasPassword && !('password' in made), 'the password is stored, never returned');
    assert.equal(made.username, 'bysans');
    assert.ok(made.clientId, 'bysans assigned a client id');
    assert.match(await r.textContent(), new RegExp(made.clientId));
    assert.ok(!(await page.textContent('main')).includes('hemmelig-1'), 'the password is not shown');
    await axeCheck(page, 'integrations');
    await shot(page, 'integrations');

    // Edit: the password field is empty (kept), the CA field appears for mqtts://,
    // an invalid PEM is answered 400 and shown in the alert box.
    await page.click(`button[aria-label="Redigér: ${tag} cs"]`);
    assert.equal(await page.inputValue('#int-password'), '');
    assert.match(await page.textContent('#integration-form'), /Lad feltet stå tomt/);
    assert.equal(await page.inputValue('#int-name'), `${tag} cs`);
    await page.fill('#int-name', `${tag} cs 2`);
    await page.fill('#int-url', 'mqtts://127.0.0.1:1');
    await page.locator('#int-ca-cert').waitFor();
    await page.fill('#int-ca-cert', 'ikke et certifikat');
    await page.click('#int-save');
    await page.waitForSelector('#int-form-error [role=alert]');
    assert.match(await page.textContent('#int-form-error'), /caCert/);
    assert.equal(await page.inputValue('#int-name'), `${tag} cs 2`, 'the form keeps what was typed');
    await shot(page, 'integrations-ca-error');
    // The client certificate (mutual TLS) needs its key: the API's 400 is shown.
    await page.fill('#int-ca-cert', '');
    await page.fill('#int-client-cert', 'ikke et klientcertifikat');
    await page.click('#int-save');
    await page.waitForFunction(() => /clientKey/.test(document.querySelector('#int-form-error')?.textContent ?? ''));
    assert.match(await page.textContent('#int-form-error'), /'clientKey' is required with 'clientCert'/);
    await page.fill('#int-client-cert', '');
    await page.fill('#int-url', DEAD);
    assert.ok(await page.locator('#int-ca-cert').isHidden());
    assert.ok(await page.locator('#int-client-cert').isHidden());
    await page.uncheck('#int-enabled');
    await page.click('#int-save');
    const r2 = row(page, 'chirpstack-list', `${tag} cs 2`);
    await r2.waitFor();
    assert.match(await page.textContent('#int-msg'), /gemt/);
    const edited = await json(await context.request.get(`${BASE}/api/v1/integrations/chirpstack/${made.id}`), 200);
    assert.equal(edited.name, `${tag} cs 2`);
    assert.equal(edited.enabled, false);
    assert.equal(edited.caCert, '');
    assert.equal(edited.hasPassword, true, 'an empty password field keeps the password');
    await r2.locator('[data-status="disabled"]').waitFor({ timeout: 15000 });

    // Delete.
    page.once('dialog', (d) => void d.accept());
    await page.click(`button[aria-label="Slet: ${tag} cs 2"]`);
    await page.waitForFunction((n) => /slettet/.test(document.getElementById('int-msg')?.textContent ?? '')
      && ![...document.querySelectorAll('#chirpstack-list .int-name')].some((x) => x.textContent === n), `${tag} cs 2`);
    await json(await context.request.get(`${BASE}/api/v1/integrations/chirpstack/${made.id}`), 404);
  } finally {
    await context.request.delete(`${BASE}/api/v1/integrations/chirpstack/${other.id}`);
  }
  assert.deepEqual(errors.filter((e) => !expected(e)), []);
  await context.close();
});

test('integrations: admin manages an external MQTT broker with its topic mapping', { skip }, async () => {
  const { context, page, errors } = await newPage('en-GB');
  await login(page, ADMIN);
  const org = await orgOf(context);
  const apps = (await json(await context.request.get(`${BASE}/api/v1/organizations/${org}/applications`), 200)).items;
  const tag = tagOf();
  await openScreen(page);
  await page.click('#mqtt-new');
  // Every label and heading is translated (no raw "int.…" keys).
  assert.doesNotMatch(await page.textContent('main'), /\bint\.[a-zA-Z]/);
  await page.selectOption('#int-app', String(apps[0].id));
  await page.fill('#int-name', `${tag} ext`);
  await page.fill('#int-url', DEAD);
  await page.fill('#int-topic-filter', 'sensors/#/up');
  await page.fill('#int-device-level', '1');
  await page.selectOption('#int-device-match', 'name');
  await page.click('#int-save');
  await page.waitForSelector('#int-form-error [role=alert]');
  assert.match(await page.textContent('#int-form-error'), /topicFilter/);
  await page.fill('#int-topic-filter', `${tag}/+/up`);
  await page.click('#int-save');
  const r = row(page, 'mqtt-list', `${tag} ext`);
  await r.waitFor();
  assert.match(await r.textContent(), new RegExp(`${tag}/\\+/up`));
  assert.match(await r.textContent(), /level 1 = name/);
  assert.match(await r.textContent(), new RegExp(apps[0].name));
  const list = (await json(await context.request.get(`${BASE}/api/v1/applications/${apps[0].id}/integrations/mqtt`), 200)).items;
  const made = list.find((i) => i.name === `${tag} ext`);
  assert.deepEqual([made.topicFilter, made.deviceTopicLevel, made.deviceMatch, made.hasPassword],
    [`${tag}/+/up`, 1, 'name', false]);
  await r.locator('[data-status="error"]').waitFor({ timeout: 30000 });
  // Edit the mapping.
  await page.click(`button[aria-label="Edit: ${tag} ext"]`);
  assert.ok(await page.locator('#int-app').isDisabled(), 'the application is fixed once created');
  await page.fill('#int-device-level', '2');
  await page.selectOption('#int-device-match', 'devEui');
  await page.click('#int-save');
  await page.waitForFunction(() => /saved/.test(document.getElementById('int-msg')?.textContent ?? ''));
  const edited = await json(await context.request.get(`${BASE}/api/v1/integrations/mqtt/${made.id}`), 200);
  assert.deepEqual([edited.deviceTopicLevel, edited.deviceMatch], [2, 'devEui']);
  await axeCheck(page, 'integrations-mqtt');
  page.once('dialog', (d) => void d.accept());
  await page.click(`button[aria-label="Delete: ${tag} ext"]`);
  await page.waitForFunction(() => /deleted/.test(document.getElementById('int-msg')?.textContent ?? ''));
  await json(await context.request.get(`${BASE}/api/v1/integrations/mqtt/${made.id}`), 404);
  assert.deepEqual(errors.filter((e) => !expected(e)), []);
  await context.close();
});

test('integrations: unknown DevEUIs and gateways render; "create device" opens the prefilled device form', { skip }, async () => {
  const { context, page, errors } = await newPage();
  await login(page, ADMIN);
  const org = await orgOf(context);
  await openScreen(page);
  // The real lists (the demo has no ChirpStack uplinks: the empty texts).
  const unknown = (await json(await context.request.get(`${BASE}/api/v1/organizations/${org}/lorawan/unknown-devices`), 200)).items;
  const gws = (await json(await context.request.get(`${BASE}/api/v1/organizations/${org}/gateways`), 200)).items;
  if (unknown.length) assert.equal(await page.locator('#unknown-devices tbody tr').count(), unknown.length);
  else assert.match(await page.textContent('#unknown-devices'), /Ingen uplinks fra ukendte DevEUI'er/);
  if (gws.length) assert.equal(await page.locator('#gateways tbody tr').count(), gws.length);
  else assert.match(await page.textContent('#gateways'), /Ingen gateways/);
  // A listed DevEUI, as the API shapes it, offers onboarding.
  const devEui = 'a1b2c3d4e5f60718';
  await page.route('**/lorawan/unknown-devices', (route) => route.fulfill({ json: { items: [{
    devEui, applicationId: '0b1c2d3e-aaaa-bbbb-cccc-000000000001', integrationId: 0,
    firstSeen: new Date(Date.now() - 3_600_000).toISOString(), lastSeen: new Date().toISOString(), uplinks: 1234 }] } }));
  await go(page, '/rules');
  await openScreen(page);
  await page.locator('#unknown-devices tbody tr').waitFor();
  const text = await page.textContent('#unknown-devices');
  assert.ok(text.includes(devEui) && text.includes('1.234'), text);
  await axeCheck(page, 'integrations-unknown');
  await page.click(`a[data-dev-eui="${devEui}"]`);
  await page.waitForFunction(() => location.pathname === '/devices/new');
  await page.waitForSelector('form.form');
  assert.equal(new URL(page.url()).searchParams.get('devEui'), devEui);
  assert.equal(await page.inputValue('form.form select >> nth=1'), 'lorawan');
  assert.equal(await page.locator('form.form input[pattern]').inputValue(), devEui);
  assert.deepEqual(errors, []);
  await context.close();
});

test('integrations: a viewer sees the lists without edit controls', { skip: skip || (!VIEWER.email && 'set BYSANS_VIEWER_EMAIL and BYSANS_VIEWER_PASSWORD') }, async () => {
  const admin = await newPage();
  await login(admin.page, ADMIN);
  const org = await orgOf(admin.context);
  const tag = tagOf();
  const made = await json(await admin.context.request.post(`${BASE}/api/v1/organizations/${org}/integrations/chirpstack`,
    { data: { name: `${tag} vist`, url: DEAD, password: 'x' } }), 201);
  const { context, page, errors } = await newPage();
  try {
    await login(page, VIEWER);
    await openScreen(page);
    await row(page, 'chirpstack-list', `${tag} vist`).waitFor();
    assert.equal(await page.locator('[data-edit]').count(), 0, 'no edit controls');
    assert.equal(await page.locator('#cs-new, #mqtt-new, #integration-form').count(), 0);
    assert.match(await page.textContent('main'), /Kun organisationens administratorer/);
    assert.match(await page.textContent('#unknown-devices'), /./);
    await axeCheck(page, 'viewer-integrations');
    await shot(page, 'viewer-integrations');
    const res = await context.request.patch(`${BASE}/api/v1/integrations/chirpstack/${made.id}`, { data: { name: 'nej' } });
    assert.ok(res.status() === 403 || res.status() === 404, `viewer write answered ${res.status()}`);
  } finally {
    await admin.context.request.delete(`${BASE}/api/v1/integrations/chirpstack/${made.id}`);
  }
  assert.deepEqual(errors, []);
  await context.close();
  await admin.context.close();
});

test('integrations: gateways show their state, place and the devices they hear', { skip }, async () => {
  const { context, page, errors } = await newPage();
  await login(page, ADMIN);
  const org = await orgOf(context);
  const dev = (await json(await context.request.get(`${BASE}/api/v1/organizations/${org}/devices?limit=1`), 200)).items[0];
  const now = new Date().toISOString();
  // The API's shapes (api/gateways.cc; its behaviour is tested against the real server in
  // tests/integration/gateway_health_test.cc): one gateway online, one offline, one never reported.
  const gw = (id, online, location) => ({ gatewayId: id, online, stateSince: online === null ? null : now, firstSeen: now, lastSeen: now, uplinks: 1200, location });
  await page.route('**/api/v1/organizations/*/gateways', (route) => route.fulfill({ json: { items: [
    gw('0016c001ff10a1a1', true, { latitude: 55.67594, longitude: 12.56553, altitude: 20 }),
    gw('0016c001ff10b2b2', false, null), gw('0016c001ff10c3c3', null, null)] } }));
  await page.route('**/api/v1/organizations/*/gateways/0016c001ff10a1a1/devices', (route) => route.fulfill({ json: { items: [
    { deviceId: dev.id, name: dev.name, devEui: '', rssi: -97, snr: 7.5, lastSeen: now, uplinks: 42 }] } }));
  await openScreen(page);
  await page.locator('#gateways tbody tr').nth(2).waitFor();
  const states = await page.$$eval('#gateways [data-gateway-state]', (els) => els.map((e) => [e.dataset.gatewayState, e.textContent.trim()]));
  assert.deepEqual(states, [['online', 'Forbundet'], ['offline', 'Afbrudt'], ['unknown', 'Ingen tilstand modtaget']]);
  assert.match(await page.textContent('#gateways'), /55,67594, 12,56553/);
  await page.selectOption('#heard-gateway', '0016c001ff10a1a1');
  await page.locator('#heard-devices tbody tr').waitFor();
  const heard = await page.textContent('#heard-devices');
  assert.ok(heard.includes(dev.name) && heard.includes('-97') && heard.includes('7,5'), heard);
  assert.equal(await page.getAttribute(`#heard-devices a[href="/devices/${dev.id}"]`, 'href'), `/devices/${dev.id}`);
  await axeCheck(page, 'integrations-gateways');
  assert.deepEqual(errors, []);
  await context.close();
});
