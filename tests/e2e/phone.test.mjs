// Issue 21 §5: a real phone layout on every screen. At 390 × 844 (a phone held upright), in
// Danish, every screen an admin reaches (lib.mjs screenPaths) fits the width: the page does not
// scroll sideways, and no visible control (button, link, field) reaches past the right edge. A
// wide table may scroll inside its own frame (.table-wrap), as tables on phones do.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { skip, useBrowser, adminPage, go, orgOf, screenPaths, shot } from './lib.mjs';

useBrowser();

const WIDTH = 390;

test('phone (390 x 844): no screen scrolls sideways or puts a control off-screen', { skip }, async () => {
  const { context, page, errors } = await adminPage('da-DK');
  const org = await orgOf(context);
  const paths = await screenPaths(context, org);
  const found = [];
  try {
    await page.setViewportSize({ width: WIDTH, height: 844 });
    for (const path of paths) {
      await go(page, path);
      await page.waitForTimeout(300);  // lazy parts of the screen
      const r = await page.evaluate((w) => {
        const off = [];
        for (const el of document.querySelectorAll('main button, main a, main input, main select, main textarea')) {
          if (el.closest('.table-wrap, .leaflet-container, [hidden]') || !el.checkVisibility?.()) continue;
          const b = el.getBoundingClientRect();
          if (b.width > 0 && b.right > w + 1) off.push(`${el.tagName.toLowerCase()}${el.id ? `#${el.id}` : ''} "${(el.textContent || el.getAttribute('aria-label') || '').trim().slice(0, 30)}" ends at ${Math.round(b.right)}`);
        }
        return { scroll: document.documentElement.scrollWidth, off: off.slice(0, 5) };
      }, WIDTH);
      if (r.scroll > WIDTH) found.push(`${path}: the page is ${r.scroll} px wide`);
      for (const o of r.off) found.push(`${path}: ${o}`);
      if (r.scroll > WIDTH || r.off.length) await shot(page, `phone${path.replace(/\//g, '_') || '_'}`);
    }
    assert.deepEqual(found, []);
    assert.deepEqual(errors, []);
  } finally {
    await context.close();
  }
});
