// Server errors read as Danish sentences that say what to do (issue 21): the API's error code
// picks the sentence; the server's English message follows only where it names what to correct.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { skip, useBrowser, adminPage, shot } from './lib.mjs';

// Navigates as a click on a link does, to a screen that answers with an error (no heading).
async function goToError(page, path) {
  await page.evaluate((p) => { history.pushState(null, '', p); dispatchEvent(new PopStateEvent('popstate')); }, path);
  const box = page.locator('main .notice.error');
  await box.waitFor({ timeout: 20000 });
  return (await box.textContent()) ?? '';
}

useBrowser();

test('errors: a missing device is a Danish sentence, without the server\'s English', { skip }, async () => {
  const { context, page } = await adminPage();
  try {
    const text = await goToError(page, '/devices/987654321');
    assert.match(text, /Det findes ikke \(længere\)/);
    assert.match(text, /Genindlæs siden/);
    assert.doesNotMatch(text, /no device|not_found|not found/i, text);
    await shot(page, 'error-not-found-da');
  } finally {
    await context.close();
  }
});

test('errors: the same error in the English UI is an English sentence', { skip }, async () => {
  const { context, page } = await adminPage('en-GB');
  try {
    const text = await goToError(page, '/devices/987654321');
    assert.match(text, /It does not exist \(any more\)/);
    assert.doesNotMatch(text, /not_found/, text);
  } finally {
    await context.close();
  }
});
