// Charts Danes read (issue 21): on a device's page the chart's time axis is in 24-hour
// Europe/Copenhagen time with day.month dates, its legend is translated, the unit is on the
// axis, a 5-hour outage is a break in the line, the period runs up to now, and the threshold of
// the rule watching the key is drawn in. Against the real server: a device of its own with
// readings posted as SenML with their own times, and a rule created through the API.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BASE, skip, useBrowser, adminPage, go, json, orgOf, tagOf, makeDevice, shot, axeCheck, settled, liveOpen, holdLiveStream } from './lib.mjs';

useBrowser();

// The chart's figures the page exposes (web/src/screens/device.ts).
async function chartState(page) {
  return page.evaluate(() => ({ ...document.querySelector('#chart')?.dataset }));
}

test('charts: Copenhagen 24-hour time, Danish legend, unit, gaps as breaks, up to now, rule threshold', { skip }, async () => {
  const { context, page, errors } = await adminPage();
  const org = await orgOf(context);
  const tag = tagOf();
  const dev = await makeDevice(context, org, `${tag}-klasse`, 'http');
  let ruleId = 0;
  try {
    const key = dev.apiKey ?? (await json(await context.request.get(`${BASE}/api/v1/devices/${dev.id}`), 200)).apiKey;
    assert.ok(key, 'the new HTTP device has an ingest key');
    // Every 10 minutes for the last 20 hours, with nothing from 12 to 7 hours ago.
    const now = Math.floor(Date.now() / 1000);
    const records = [];
    for (let ago = 20 * 3600; ago >= 600; ago -= 600) {
      if (ago < 12 * 3600 && ago > 7 * 3600) continue;
      records.push({ n: 'temperature', u: 'Cel', v: 20 + (ago % 7200) / 3600, t: now - ago });
    }
    const ingest = await fetch(`${BASE}/api/v1/receive-data?apiKey=${encodeURIComponent(key)}`, {
      method: 'POST', headers: { 'Content-Type': 'application/senml+json' }, body: JSON.stringify(records),
    });
    assert.ok(ingest.status >= 200 && ingest.status < 300, `ingest answered ${ingest.status}: ${await ingest.text()}`);
    const rule = await json(await context.request.post(`${BASE}/api/v1/organizations/${org}/rules`, {
      data: { name: `${tag} for varmt`, scope: { kind: 'device', id: dev.id }, severity: 'warning', expression: 'temperature > 25' },
    }), 201);
    ruleId = rule.id;

    await go(page, `/devices/${dev.id}`);
    await page.waitForSelector('#chart-key');
    await page.selectOption('#chart-key', 'temperature');
    await page.selectOption('#chart-range', '24h');
    await page.waitForFunction(() => {
      const d = document.querySelector('#chart')?.dataset;
      return d && d.legend === 'Temperatur' && Number(d.points) > 50 && d.xLabels;
    }, null, { timeout: 30000 });
    let c = await chartState(page);
    assert.equal(Number(c.points), records.length, 'every reading is drawn');
    assert.equal(c.unit, 'Cel');
    assert.equal(c.thresholds, '25', 'the rule temperature > 25 is drawn');
    assert.ok(Number(c.gaps) >= 1, `the 5-hour outage breaks the line (gaps=${c.gaps})`);
    assert.ok(Math.abs(Number(c.xMax) - Date.now() / 1000) < 120, 'the chart runs up to now');
    const labels = c.xLabels.split('|');
    assert.ok(labels.length >= 3, c.xLabels);
    for (const l of labels) assert.match(l, /^\d{2}:\d{2}(\n\d{1,2}\.\d{1,2})?$/, `24-hour time, day.month: ${JSON.stringify(l)}`);
    assert.ok(labels.some((l) => l.includes('\n')), 'the date is under the first tick');
    // The labels are Copenhagen time whatever the browser's zone: the page's own formatter agrees.
    const expectFirst = await page.evaluate(() => new Intl.DateTimeFormat('da-DK', {
      timeZone: 'Europe/Copenhagen', hour: '2-digit', minute: '2-digit', hourCycle: 'h23',
    }).format(new Date()));
    assert.match(expectFirst, /^\d{2}[.:]\d{2}$/);
    // The page's enumerations are Danish words, not the API's tokens (the messages unfolded).
    await page.click('#device-messages > summary');
    await page.waitForSelector('span.dec');
    const cells = await page.$$eval('main td', (tds) => tds.map((td) => td.textContent.trim()));
    assert.ok(cells.includes('HTTP') && !cells.includes('http'), 'transport shown as HTTP');
    const decode = await page.$$eval('span.dec', (xs) => xs.map((x) => x.textContent.trim()));
    assert.ok(decode.length > 0);
    for (const d of decode) assert.ok(['afkodet', 'fejl', 'ingen dekoder', 'afventer'].includes(d), `decode status in Danish: ${d}`);
    await settled(page);
    await axeCheck(page, 'device-chart');
    await page.locator('#chart').scrollIntoViewIfNeeded();
    await shot(page, 'device-chart-24h');

    // A week: hourly buckets, with the legend in Danish; the outage's missing hours break the line.
    await page.selectOption('#chart-range', '7d');
    await page.waitForFunction(() => document.querySelector('#chart')?.dataset.legend === 'gennemsnit,min.,maks.', null, { timeout: 30000 });
    c = await chartState(page);
    assert.ok(Number(c.gaps) >= 1, `missing hours break the line (gaps=${c.gaps})`);
    assert.equal(c.thresholds, '25');
    for (const l of c.xLabels.split('|')) assert.match(l, /^(\d{2}:\d{2}(\n)?)?(\d{1,2}\.\d{1,2})?$/, JSON.stringify(l));
    assert.ok(!/am|pm/i.test(c.xLabels), c.xLabels);
    await page.locator('#chart').scrollIntoViewIfNeeded();
    await shot(page, 'device-chart-7d');
    assert.deepEqual(errors, []);
  } finally {
    if (ruleId) await context.request.delete(`${BASE}/api/v1/rules/${ruleId}`);
    await context.request.delete(`${BASE}/api/v1/devices/${dev.id}`);
    await context.close();
  }
});

test('keys: the device model names its keys, yes/no in words, radio figures folded away', { skip }, async () => {
  const { context, page, errors } = await adminPage();
  const org = await orgOf(context);
  const tag = tagOf();
  const dev = await makeDevice(context, org, `${tag}-fald`, 'http');
  let modelId = 0;
  try {
    const model = await json(await context.request.post(`${BASE}/api/v1/organizations/${org}/device-models`, {
      data: { name: `${tag} faldsensor`, 'x-bysans-keys': { alarm_button: { name: { da: 'Nødknap', en: 'Emergency button' } } } },
    }), 201);
    modelId = model.id;
    await json(await context.request.patch(`${BASE}/api/v1/devices/${dev.id}`, { data: { deviceModelId: model.id } }), 200);
    const key = dev.apiKey ?? (await json(await context.request.get(`${BASE}/api/v1/devices/${dev.id}`), 200)).apiKey;
    const ingest = await fetch(`${BASE}/api/v1/receive-data?apiKey=${encodeURIComponent(key)}`, {
      method: 'POST', headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ fall: false, alarm_button: true, rssi: -97, temperature: 21.5 }),
    });
    assert.ok(ingest.status >= 200 && ingest.status < 300, `ingest answered ${ingest.status}`);
    await go(page, `/devices/${dev.id}`);
    await page.waitForSelector('main [data-key="fall"]');
    const label = (k) => page.textContent(`main [data-key="${k}"]`);
    const value = (k) => page.textContent(`main [data-live-value="${k}"]`);
    assert.equal(await label('fall'), 'Fald');
    assert.equal(await value('fall'), 'Nej');
    assert.equal(await label('alarm_button'), 'Nødknap', 'the device model\'s own name');
    assert.equal(await value('alarm_button'), 'Ja');
    assert.equal(await label('temperature'), 'Temperatur');
    // The signal figure is under "Tekniske detaljer", folded.
    assert.equal(await page.$eval('#latest-technical', (d) => d.open), false);
    assert.equal(await page.$eval('main [data-key="rssi"]', (e) => !!e.closest('#latest-technical')), true);
    assert.equal(await page.$eval('main [data-key="fall"]', (e) => !!e.closest('#latest-technical')), false);
    await axeCheck(page, 'device-keys');

    // A reading stored before the live stream opens is shown once it opens (the page re-reads
    // the latest values on each open; the stream never pushed it).
    const release = await holdLiveStream(page);
    await page.reload();
    await page.waitForSelector('main [data-live-value="temperature"]');
    assert.match(await value('temperature'), /21,5/);
    const later = await fetch(`${BASE}/api/v1/receive-data?apiKey=${encodeURIComponent(key)}`, {
      method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ temperature: 23.5 }),
    });
    assert.ok(later.status >= 200 && later.status < 300, `ingest answered ${later.status}`);
    release();
    await liveOpen(page);
    await page.waitForFunction(() => /23,5/.test(document.querySelector('main [data-live-value="temperature"]')?.textContent ?? ''),
      null, { timeout: 15000 });
    assert.deepEqual(errors, []);
  } finally {
    await context.request.delete(`${BASE}/api/v1/devices/${dev.id}`);
    if (modelId) await context.request.delete(`${BASE}/api/v1/device-models/${modelId}`);
    await context.close();
  }
});

test('device page: alarms and chart before the raw messages, which are folded and paged', { skip }, async () => {
  const { context, page, errors } = await adminPage();
  const org = await orgOf(context);
  const tag = tagOf();
  const dev = await makeDevice(context, org, `${tag}-log`, 'http');
  try {
    const key = dev.apiKey ?? (await json(await context.request.get(`${BASE}/api/v1/devices/${dev.id}`), 200)).apiKey;
    for (let i = 0; i < 25; i++) {
      const r = await fetch(`${BASE}/api/v1/receive-data?apiKey=${encodeURIComponent(key)}`, {
        method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ level: i }),
      });
      assert.ok(r.status >= 200 && r.status < 300, `ingest answered ${r.status}`);
      await new Promise((res) => setTimeout(res, 3));
    }
    await go(page, `/devices/${dev.id}`);
    await page.waitForFunction(() => /\(25\)/.test(document.querySelector('#device-messages > summary')?.textContent ?? ''));
    assert.equal(await page.textContent('#device-messages > summary'), 'Rå beskeder (25)');
    assert.equal(await page.$eval('#device-messages', (d) => d.open), false, 'folded: nothing to look at');
    // The sections' order: alarms and the chart come before the messages.
    const order = await page.$$eval('main section h2', (hs) => hs.map((x) => x.textContent));
    const messagesAt = order.findIndex((x) => /beskeder/i.test(x));
    const alarmsAt = order.findIndex((x) => /^Alarmer/.test(x));
    assert.ok(messagesAt > 0, order.join());
    assert.ok(alarmsAt >= 0 && alarmsAt < messagesAt, `alarms before messages: ${order.join()}`);
    assert.ok(order.indexOf('Graf') >= 0 && order.indexOf('Graf') < messagesAt, `chart before messages: ${order.join()}`);
    await page.click('#device-messages > summary');
    await page.waitForSelector('#device-messages table.messages');
    assert.equal(await page.locator('#device-messages table.messages tbody tr').count(), 20);
    assert.equal(await page.textContent('#device-messages .pager-pos'), '1–20 af 25');
    await page.click('#device-messages .pager button:has-text("Ældre")');
    await page.waitForFunction(() => document.querySelector('#device-messages .pager-pos')?.textContent === '21–25 af 25');
    assert.equal(await page.locator('#device-messages table.messages tbody tr').count(), 5);
    assert.equal(await page.$eval('#device-messages .pager button:has-text("Ældre")', (b) => b.disabled), true);
    await axeCheck(page, 'device-messages-paged');
    assert.deepEqual(errors, []);
  } finally {
    await context.request.delete(`${BASE}/api/v1/devices/${dev.id}`);
    await context.close();
  }
});
