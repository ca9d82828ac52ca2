// Alarms no one can miss (issue 21 §1, the parts in the UI): the open-alarm count in the menu
// (red while one is critical) and the tab title, open alarms sorted critical first with colour
// and a shape, and who acknowledged with which comment. Against the real server: a device of
// its own, two rules of different severity, an uplink that raises both; a critical alarm that
// cleared by itself stays open, "ryddet, ikke kvitteret", until someone presses Kvittér.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BASE, ADMIN, skip, useBrowser, adminPage, newPage, login, go, json, orgOf, tagOf, makeDevice, shot, axeCheck, settled, liveOpen } from './lib.mjs';

useBrowser();

// Three rules of different severity on `dev` and an uplink that raises all three; waits until
// the engine has raised them. The rules' ids are pushed to `rules` (for the caller's cleanup).
async function raiseAlarms(context, org, tag, dev, rules) {
  for (const [severity, expr] of [['info', 'e2e_sev > 5'], ['critical', 'e2e_sev > 50'], ['warning', 'e2e_sev > 10']]) {
    rules.push((await json(await context.request.post(`${BASE}/api/v1/organizations/${org}/rules`, {
      data: { name: `${tag} ${severity}`, scope: { kind: 'device', id: dev.id }, severity, expression: expr },
    }), 201)).id);
  }
  const key = dev.apiKey ?? (await json(await context.request.get(`${BASE}/api/v1/devices/${dev.id}`), 200)).apiKey;
  const open = async () => (await json(await context.request.get(
    `${BASE}/api/v1/organizations/${org}/alarms?state=open&limit=200`), 200)).items.filter((a) => a.deviceId === dev.id).length;
  const ingest = await fetch(`${BASE}/api/v1/receive-data?apiKey=${encodeURIComponent(key)}`, {
    method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ e2e_sev: 80 }),
  });
  assert.ok(ingest.status >= 200 && ingest.status < 300, `ingest answered ${ingest.status}`);
  for (let i = 0; i < 100 && (await open()) < 3; i++) await new Promise((r) => setTimeout(r, 100));
  assert.equal(await open(), 3, 'the three alarms are raised');
}

// Acknowledges the device's open alarms (a critical one would otherwise stay open, "cleared, not
// acknowledged", once its rule is gone), then removes the rules and the device.
async function cleanUp(context, org, dev, rules) {
  const open = (await json(await context.request.get(
    `${BASE}/api/v1/organizations/${org}/alarms?state=open&limit=200`), 200)).items.filter((a) => a.deviceId === dev.id);
  for (const a of open) {
    if (!a.acknowledged) await context.request.post(`${BASE}/api/v1/alarms/${a.id}/acknowledge`, { data: {} });
  }
  for (const id of rules) await context.request.delete(`${BASE}/api/v1/rules/${id}`);
  await context.request.delete(`${BASE}/api/v1/devices/${dev.id}`);
  await context.close();
}

// Acknowledges the open alarm whose row mentions `text`, with a comment, in one step (a live
// redraw between typing and clicking would drop the text).
async function acknowledgeInList(page, text, comment) {
  await page.waitForSelector(`#alarms-active tr:has-text("${text}") button[type=submit]`);
  await page.evaluate(([t, c]) => {
    const r = [...document.querySelectorAll('#alarms-active tr')].find((x) => x.textContent.includes(t));
    r.querySelector('input[type=text]').value = c;
    r.querySelector('button[type=submit]').click();
  }, [text, comment]);
}

test('alarms: count in menu and title, critical first with colour and icon, who acknowledged', { skip }, async () => {
  const { context, page, errors } = await adminPage();
  const org = await orgOf(context);
  const tag = tagOf();
  const dev = await makeDevice(context, org, `${tag}-seng`, 'http');
  const rules = [];
  try {
    await raiseAlarms(context, org, tag, dev, rules);
    await go(page, '/alarms');
    await page.waitForSelector(`#alarms-active td:has-text("${tag}-seng")`);
    // The menu's badge and the title carry the count; red while a critical alarm is open.
    await page.waitForFunction(() => Number(document.querySelector('#nav-alarm-count')?.textContent) >= 3);
    const count = Number(await page.textContent('#nav-alarm-count'));
    assert.ok(await page.$eval('#nav-alarm-count', (b) => b.classList.contains('critical')));
    assert.match(await page.title(), new RegExp(`^\\(${count}\\) Alarmer · bysans$`));
    // This device's three alarms: critical, warning, info, in that order, each with its shape.
    const mine = await page.$$eval(`#alarms-active tr:has-text("${tag}-seng") [data-severity]`,
      (xs) => xs.map((x) => [x.dataset.severity, x.textContent]));
    assert.deepEqual(mine.map((m) => m[0]), ['critical', 'warning', 'info']);
    assert.deepEqual(mine.map((m) => m[1]), ['⬣kritisk', '▲advarsel', 'ℹinformation']);
    // Every critical alarm of the list comes before every other.
    const all = await page.$$eval('#alarms-active [data-severity]', (xs) => xs.map((x) => x.dataset.severity));
    assert.equal(all.lastIndexOf('critical'), all.filter((s) => s === 'critical').length - 1, all.join());
    await settled(page);
    await axeCheck(page, 'alarms-severity');
    await shot(page, 'alarms-severity');
    // Acknowledge the critical one with a comment: who and what is shown in its row.
    // In one step: a live update redrawing the list between typing and clicking would drop the text.
    await page.evaluate((t) => {
      const row = [...document.querySelectorAll('#alarms-active tr')]
        .find((r) => r.textContent.includes(t) && r.querySelector('[data-severity="critical"]'));
      row.querySelector('input[type=text]').value = 'e2e: tilset borgeren';
      row.querySelector('button[type=submit]').click();
    }, `${tag}-seng`);
    await page.waitForFunction((t) => [...document.querySelectorAll('#alarms-active tr')]
      .some((r) => r.textContent.includes(t) && r.textContent.includes('kvitteret af')), `${tag}-seng`);
    const handled = await page.$$eval(`#alarms-active tr:has-text("${tag}-seng") .alarm-handled`, (xs) => xs.map((x) => x.textContent));
    assert.ok(handled.some((x) => x.includes(`kvitteret af ${ADMIN.email}`) && x.includes('“e2e: tilset borgeren”')), handled.join(' | '));
    assert.deepEqual(errors, []);
  } finally {
    await cleanUp(context, org, dev, rules);
  }
});

test('phone (390 x 844): the menu folds away, alarms are cards with a large button, nothing overflows', { skip }, async () => {
  const { context, page, errors } = await adminPage();
  await page.setViewportSize({ width: 390, height: 844 });
  const org = await orgOf(context);
  const tag = tagOf();
  const dev = await makeDevice(context, org, `${tag}-tlf`, 'http');
  const rules = [];
  try {
    await raiseAlarms(context, org, tag, dev, rules);
    await go(page, '/alarms');
    await page.waitForSelector(`#alarms-active td:has-text("${tag}-tlf")`);
    // The menu is folded: the header is one line, the menu button shows the alarm count.
    assert.equal(await page.isVisible('#main-nav'), false);
    assert.ok(await page.isVisible('#menu-toggle'));
    const header = await page.locator('header.top').boundingBox();
    assert.ok(header.height < 90, `header ${header.height} px high`);
    await page.click('#menu-toggle');
    assert.ok(await page.isVisible('#main-nav'));
    assert.equal(await page.getAttribute('#menu-toggle', 'aria-expanded'), 'true');
    await page.click('#menu-toggle');
    // The alarm is a card: its acknowledge button is on screen and large enough to tap.
    // (Read again if a live update redraws the list in between.)
    const button = page.locator('#alarms-active tr', { hasText: `${tag}-tlf` }).first().locator('button[type=submit]');
    let box = null;
    for (let i = 0; i < 20 && !box; i++) {
      await button.waitFor();
      box = await button.boundingBox();
    }
    assert.ok(box, 'the acknowledge button is shown');
    assert.ok(box.x >= 0 && box.x + box.width <= 390, `Kvittér at x ${box.x}..${box.x + box.width}`);
    assert.ok(box.height >= 44, `Kvittér ${box.height} px high`);
    await axeCheck(page, 'alarms-phone');
    await shot(page, 'alarms-phone');
    // No screen is wider than the phone.
    for (const path of ['/alarms', '/devices', '/decoders', `/devices/${dev.id}`]) {
      await go(page, path);
      const [scroll, width] = await page.evaluate(() => [document.documentElement.scrollWidth, document.documentElement.clientWidth]);
      assert.ok(scroll <= width, `${path}: ${scroll} px wide on a ${width} px screen`);
    }
    assert.deepEqual(errors, []);
  } finally {
    await cleanUp(context, org, dev, rules);
  }
});

test('a new critical alarm sounds and notifies when the user turned it on; a warning does not', { skip }, async () => {
  const { context, page, errors } = await adminPage();
  await context.grantPermissions(['notifications'], { origin: BASE });
  // Record what the page asks of the browser instead of playing or showing it.
  await context.addInitScript(() => {
    window.__notes = [];
    window.__chimes = 0;
    window.Notification = class {
      static permission = 'granted';
      static requestPermission() { return Promise.resolve('granted'); }
      constructor(title, opts) { window.__notes.push({ title, body: opts?.body ?? '' }); }
    };
    window.AudioContext = class {
      constructor() { window.__chimes++; this.currentTime = 0; this.destination = {}; }
      createGain() { return { gain: {}, connect() {} }; }
      createOscillator() { return { frequency: {}, connect() {}, start() {}, stop() {} }; }
      close() { return Promise.resolve(); }
    };
  });
  const org = await orgOf(context);
  const tag = tagOf();
  const dev = await makeDevice(context, org, `${tag}-fald`, 'http');
  const rules = [];
  try {
    await page.reload();
    // The app first resolves the session: a navigation before that can be taken back.
    await page.waitForSelector('#logout');
    await go(page, '/alarms');
    assert.equal(await page.isChecked('#critical-alerts'), false, 'off until the user turns it on');
    await page.check('#critical-alerts');
    await liveOpen(page);
    await raiseAlarms(context, org, tag, dev, rules);
    // The demo's fall sensors raise critical alarms of their own meanwhile, and those notify
    // too (as they should): only this device's notifications are counted.
    const own = async () => (await page.evaluate(() => window.__notes)).filter((n) => n.body.startsWith(`${tag}-fald: `));
    for (let i = 0; i < 300 && (await own()).length < 1; i++) await new Promise((r) => setTimeout(r, 100));
    await new Promise((r) => setTimeout(r, 1500));  // the warning and info events have arrived too
    const notes = await own();
    assert.equal(notes.length, 1, `one notification, for the critical alarm only: ${JSON.stringify(notes)}`);
    assert.equal(notes[0].title, 'Kritisk alarm');
    assert.match(notes[0].body, /e2e_sev > 50/);
    const all = await page.evaluate(() => window.__notes);
    assert.ok(all.every((n) => n.title === 'Kritisk alarm'), JSON.stringify(all));
    assert.equal(await page.evaluate(() => window.__chimes), all.length, 'one chime per critical notification');
    // The choice is kept in this browser.
    await go(page, '/devices');
    await go(page, '/alarms');
    assert.equal(await page.isChecked('#critical-alerts'), true);
    assert.deepEqual(errors, []);
  } finally {
    await cleanUp(context, org, dev, rules);
  }
});

test('a critical alarm that cleared unacknowledged stays open, "ryddet, ikke kvitteret", until Kvittér', { skip }, async () => {
  const { context, page, errors } = await adminPage();
  const org = await orgOf(context);
  const tag = tagOf();
  const dev = await makeDevice(context, org, `${tag}-fald2`, 'http');
  let rule = null;
  const send = async (body) => {
    const r = await fetch(`${BASE}/api/v1/receive-data?apiKey=${encodeURIComponent(dev.apiKey)}`, {
      method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body),
    });
    assert.ok(r.status >= 200 && r.status < 300, `ingest answered ${r.status}`);
  };
  const mine = async (state) => (await json(await context.request.get(
    `${BASE}/api/v1/organizations/${org}/alarms?state=${state}&limit=200`), 200)).items.filter((a) => a.deviceId === dev.id);
  const until = async (what, pred) => {
    for (let i = 0; i < 100; i++) { if (await pred()) return; await new Promise((r) => setTimeout(r, 100)); }
    assert.fail(what);
  };
  try {
    rule = (await json(await context.request.post(`${BASE}/api/v1/organizations/${org}/rules`, {
      data: { name: `${tag} fald`, scope: { kind: 'device', id: dev.id }, severity: 'critical',
        expression: 'e2e_fall == true', clearExpression: 'e2e_fall == false' },
    }), 201)).id;
    await send({ e2e_fall: true });
    await until('the fall alarm is raised', async () => (await mine('open')).length === 1);
    await send({ e2e_fall: false });  // the sensor's next message: the condition clears by itself
    await until('the fall alarm clears', async () => (await mine('awaiting_acknowledge')).length === 1);
    await go(page, '/alarms');
    const row = page.locator('#alarms-active tr', { hasText: `${tag}-fald2` });
    await row.first().waitFor();
    // Still among the open alarms, in Danish, with the Kvittér button.
    assert.equal(await row.count(), 1);
    assert.equal((await row.locator('[data-state="cleared_unacknowledged"]').textContent()).trim(), 'ryddet, ikke kvitteret');
    const button = row.locator('button[type=submit]');
    assert.equal((await button.textContent()).trim(), 'Kvittér');
    assert.equal(await page.locator(`#alarms-history tr:has-text("${tag}-fald2")`).count(), 0, 'not in the history yet');
    const before = Number(await page.textContent('#nav-alarm-count'));
    assert.ok(before >= 1, `the menu counts it (${before})`);
    await axeCheck(page, 'alarms-cleared-unacknowledged');
    await shot(page, 'alarms-cleared-unacknowledged');
    await acknowledgeInList(page, `${tag}-fald2`, 'e2e: borgeren er ok');
    // It leaves the open list and shows in the history: who acknowledged, with the comment.
    await page.waitForSelector(`#alarms-history tr:has-text("${tag}-fald2")`);
    assert.equal(await page.locator(`#alarms-active tr:has-text("${tag}-fald2")`).count(), 0);
    const handled = await page.textContent(`#alarms-history tr:has-text("${tag}-fald2") .alarm-handled`);
    assert.ok(handled.includes(`kvitteret af ${ADMIN.email}`) && handled.includes('“e2e: borgeren er ok”'), handled);
    assert.ok(handled.includes('afsluttet automatisk'), handled);
    const history = await mine('history');
    assert.equal(history.length, 1);
    assert.equal(history[0].status, 'cleared_acknowledged');
    assert.equal(history[0].acknowledgedBy, ADMIN.email);
    assert.deepEqual(errors, []);
  } finally {
    await cleanUp(context, org, dev, rule ? [rule] : []);
  }
});

test('an operator acknowledges and silences alarms, and sees no configuration buttons', { skip }, async () => {
  const admin = await adminPage();
  const org = await orgOf(admin.context);
  const tag = tagOf();
  const dev = await makeDevice(admin.context, org, `${tag}-vagt`, 'http');
  const op = { email: `${tag}-operator@bysans.local`.toLowerCase(), password: 'Vagtcentralen-e2e-2026' };
  const user = await json(await admin.context.request.post(`${BASE}/api/v1/users`, {
    data: { email: op.email, password: op.password, name: 'Vagt' },
  }), 201);
  await json(await admin.context.request.put(`${BASE}/api/v1/organizations/${org}/members/${user.id}`, {
    data: { role: 'operator' },
  }), 200);
  const rules = [];
  const { context, page, errors } = await newPage();
  try {
    rules.push((await json(await admin.context.request.post(`${BASE}/api/v1/organizations/${org}/rules`, {
      data: { name: `${tag} alarmknap`, scope: { kind: 'device', id: dev.id }, severity: 'critical', expression: 'e2e_button >= 1' },
    }), 201)).id);
    const r = await fetch(`${BASE}/api/v1/receive-data?apiKey=${encodeURIComponent(dev.apiKey)}`, {
      method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ e2e_button: 1 }),
    });
    assert.ok(r.status >= 200 && r.status < 300, `ingest answered ${r.status}`);
    await login(page, op);
    await go(page, '/alarms');
    const row = page.locator('#alarms-active tr', { hasText: `${tag}-vagt` });
    await row.first().waitFor({ timeout: 30000 });
    assert.equal((await row.locator('button[type=submit]').textContent()).trim(), 'Kvittér');
    assert.ok(await page.isVisible('#silence-form'), 'an operator may silence');
    // Configuration is hidden: no new rule, no new device, no edit controls, no administration.
    await go(page, '/rules');
    assert.equal(await page.locator('#rule-new').count(), 0);
    assert.equal(await page.locator('[data-edit]').count(), 0, 'no edit controls on the rules');
    await go(page, '/devices');
    assert.equal(await page.locator('[data-edit]').count(), 0, 'no edit controls in the device list');
    assert.equal(await page.locator('header nav a[href="/admin"]').count(), 0);
    await go(page, '/alarms');
    await acknowledgeInList(page, `${tag}-vagt`, 'e2e: vagten ringer');
    await page.waitForFunction(([t, who]) => [...document.querySelectorAll('#alarms-active tr')]
      .some((x) => x.textContent.includes(t) && x.textContent.includes(`kvitteret af ${who}`)), [`${tag}-vagt`, op.email]);
    await axeCheck(page, 'alarms-operator');
    await shot(page, 'alarms-operator');
    assert.deepEqual(errors, []);
  } finally {
    await context.close();
    await admin.context.request.delete(`${BASE}/api/v1/users/${user.id}`);
    await cleanUp(admin.context, org, dev, rules);
  }
});
