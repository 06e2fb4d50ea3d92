// What the console's browser scripts share: a page of the system's headless Chromium whose dialogs, console errors and
// uncaught exceptions are collected into the report (a test asserts there are none), and a console opened with a key.

/** A new page of <browser> (optionally a viewport) reporting into <report>.dialogs and <report>.errors. */
export async function watchedPage(browser, report, viewport) {
  const page = await browser.newPage(viewport ? { viewport } : {});
  page.setDefaultTimeout(60_000);
  page.on('dialog', async (dialog) => { report.dialogs.push(dialog.message()); await dialog.dismiss(); });
  page.on('console', (message) => { if (message.type() === 'error') report.errors.push(message.text()); });
  page.on('pageerror', (error) => report.errors.push(String(error)));
  return page;
}

/** Opens the console of <url> with <key> entered and the server's vkeys taken, once its checkpoint was checked. */
export async function openConsole(page, url, key) {
  await page.goto(new URL('console/', url).href);
  await page.fill('#key', key);
  await page.click('#key-form button[type=submit]');
  await page.click('#offered-vkeys');
  await page.waitForFunction(() => document.getElementById('checkpoint-checks').dataset.ok);
}
