// What speedscope shows for a trace, read from the page Chromium rendered (run by
// check_speedscope.py):
//
//   node speedscope_view.js VIEWER_DIR CHROMIUM URL SCREENSHOT HANDLER...
//
// URL opens speedscope's release page with #profileURL= pointing at the trace. Prints one JSON
// object: `profiles`, the names the profile selector lists (speedscope makes one profile per
// thread: "hue (pid 1), core 0 (tid 0)"), and `frames`, for each profile and each HANDLER, how
// many rows the Sandwich view's table shows when searched for that handler's frames. Speedscope
// draws the flame charts on a canvas, so both reads are from its DOM: the selector's list and the
// Sandwich table, which are built from the imported profiles, not from the file.
//
// Hazard: the Sandwich table is virtual (only rows on screen exist in the DOM), so a frame is
// looked for by searching, which puts its rows first, never by scrolling through all of them.
'use strict';
const path = require('path');

const [viewer, executablePath, url, screenshot, ...handlers] = process.argv.slice(2);
const { chromium } = require(path.join(viewer, 'node_modules', 'playwright-core'));
const selectorText = /\(\d+\/\d+\)/;  // the selector reads "NAME (i/n)"

async function openSelector(page) {
  await page.getByText(selectorText).first().click();
  await page.locator('tr[title]').first().waitFor({ state: 'visible', timeout: 10000 });
}

// Makes `name` the profile on view, and waits until the selector says so.
async function choose(page, name) {
  await openSelector(page);
  await page.locator(`tr[title="${name.replace(/"/g, '\\"')}"]`).click();
  await page.waitForFunction(
      n => [...document.querySelectorAll('span')].some(
          s => s.textContent.startsWith(n + ' (') && /\(\d+\/\d+\)$/.test(s.textContent)),
      name, { timeout: 10000 });
}

(async () => {
  // --no-sandbox: the test may run as root, where Chromium refuses its sandbox.
  const browser = await chromium.launch({ executablePath, args: ['--no-sandbox', '--disable-gpu'] });
  try {
    const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
    const errors = [];
    page.on('pageerror', e => errors.push(String(e)));
    page.on('dialog', d => { errors.push('dialog: ' + d.message()); d.dismiss(); });
    await page.goto(url);
    // Loaded and imported: the toolbar's view buttons appear. An import error shows an alert
    // instead, and this wait times out.
    await page.getByText('Sandwich').first().waitFor({ timeout: 90000 });
    // With one profile the toolbar shows its name as plain text between the button groups; with
    // more it shows the selector, "NAME (i/n)", whose list is read by opening it.
    const single = await page.evaluate(() => {
      const sandwich = [...document.querySelectorAll('div')].find(
          d => d.children.length === 1 && d.textContent.endsWith('Sandwich'));
      const middle = sandwich.parentElement.parentElement.childNodes[1];
      return middle && middle.nodeType === Node.TEXT_NODE ? middle.textContent : null;
    });
    let profiles = [single];
    if (single === null) {
      await openSelector(page);
      profiles = await page.locator('tr[title]').evaluateAll(rows => rows.map(r => r.title));
      await page.keyboard.press('Escape');
    }

    const frames = {};
    for (const name of profiles) {
      if (single === null) await choose(page, name);
      await page.getByText('Sandwich').first().click();
      // Every profile has frames: wait for the unfiltered table's first row, so an empty table
      // below means "filtered to nothing", not "not drawn yet".
      await page.locator('td > span[style*="background-color"]').first().waitFor({ timeout: 10000 });
      frames[name] = {};
      for (const h of handlers) {
        // Frames are named "HANDLER {args}": one per slice, since the args differ.
        await page.keyboard.press('Control+f');
        const search = page.locator('input:visible').last();
        await search.fill(h + ' {');
        // The table is filtered once every row it shows contains the query. Rows' name cells are
        // the ones holding the frame's color swatch.
        const count = query => page.evaluate(q => {
          const names = [...document.querySelectorAll('td')]
              .filter(c => c.querySelector(':scope > span[style*="background-color"]'))
              .map(c => c.textContent);
          return names.every(n => n.includes(q)) ? names.filter(n => n.startsWith(q)).length : -1;
        }, query);
        let n = await count(h + ' {');
        for (let tries = 0; n <= 0 && tries < 20; ++tries) {
          // -1: not filtered yet. 0 may also be a table between renders: look again before
          // reporting a handler missing.
          await page.waitForTimeout(50);
          n = await count(h + ' {');
        }
        frames[name][h] = Math.max(n, 0);
        await search.fill('');
        await page.keyboard.press('Escape');
      }
    }
    // The picture a person would look at: the first profile's timeline.
    if (single === null) await choose(page, profiles[0]);
    await page.getByText('Time Order').first().click();
    await page.waitForTimeout(500);
    await page.screenshot({ path: screenshot });
    process.stdout.write(JSON.stringify({ profiles, frames, errors }) + '\n');
  } finally {
    await browser.close();
  }
})().catch(e => {
  process.stderr.write(String(e && e.stack || e) + '\n');
  process.exit(1);
});
