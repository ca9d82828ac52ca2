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

test('the rule form sets an SMS action and "notify the responsible contacts"', { skip }, async () => {
  const { context, page, errors } = await adminPage();
  const org = await orgOf(context);
  const tag = tagOf();
  // A demo device (the form lists the devices the screen loaded); a key it never sends.
  const dev = (await json(await context.request.get(`${BASE}/api/v1/organizations/${org}/devices?limit=1`), 200)).items[0];
  await go(page, '/rules');
  await page.click('#rule-new');
  await page.fill('#rule-name', `${tag} sms`);
  await page.selectOption('#rule-scope-kind', 'device');
  await page.selectOption('#rule-scope-target', String(dev.id));
  await page.fill('#rule-expression', 'e2e_never_sent > 1');
  await page.fill('#rule-sms-to', '+45 20 00 00 01, +4520000002');
  await page.selectOption('#rule-notify-via', 'sms');
  await page.fill('#rule-sms-message', 'CO2 i {{device.name}}');
  await axeCheck(page, 'rule-sms');
  await page.click('#rule-save');
  await page.waitForSelector(`table.rules td:has-text("${tag} sms")`);
  const rules = (await json(await context.request.get(`${BASE}/api/v1/organizations/${org}/rules?limit=1000`), 200)).items;
  const rule = rules.find((r) => r.name === `${tag} sms`);
  assert.ok(rule);
  try {
    const sms = rule.actions.find((a) => a.type === 'sms');
    const notify = rule.actions.find((a) => a.type === 'notify_contacts');
    assert.deepEqual(sms.to, ['+45 20 00 00 01', '+4520000002']);
    assert.equal(sms.message, 'CO2 i {{device.name}}');
    assert.equal(notify.via, 'sms');
    assert.equal(notify.message, 'CO2 i {{device.name}}');
    // Shown again when the rule is edited.
    await page.click(`button[aria-label="Rediger: ${tag} sms"]`);
    assert.equal(await page.inputValue('#rule-sms-to'), '+45 20 00 00 01, +4520000002');
    assert.equal(await page.inputValue('#rule-notify-via'), 'sms');
    assert.deepEqual(errors, []);
  } finally {
    await context.request.delete(`${BASE}/api/v1/rules/${rule.id}`);
  }
});
