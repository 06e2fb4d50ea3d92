// The console in a real browser: headless Chromium (the system's, at CHROMIUM; never a downloaded build) opens
// SIOS_URL/console/, enters SIOS_KEY, takes the server's verifier keys and checks the latest checkpoint, opens entry
// RECORD_INDEX of the record and checks its inclusion; then checks
// the receipt files RECEIPT_GOOD and RECEIPT_TAMPERED, and, with FOREIGN_VKEYS pasted, FOREIGN_RECEIPT (whose entry
// carries markup that must stay text). Prints what the page showed as JSON on stdout; with SIOS_CONSOLE_SCREENSHOTS
// set to a folder, also saves screenshots of the page there.
import { chromium } from 'playwright-core';
import { openConsole, watchedPage } from './console-page.mjs';

const watchdog = setTimeout(() => {
  process.stderr.write('console-e2e: no result after 120 s, giving up\n');
  process.exit(3);
}, 120_000);

const env = (name) => process.env[name] ?? (() => { throw new Error(`${name} is not set`); })();
const browser = await chromium.launch({ executablePath: env('CHROMIUM'), args: ['--no-sandbox'] });
const report = { dialogs: [], errors: [] };
try {
  const page = await watchedPage(browser, report);
  await openConsole(page, env('SIOS_URL'), env('SIOS_KEY'));
  report.checkpoint = {
    ok: await page.$eval('#checkpoint-checks', (e) => e.dataset.ok),
    checks: await page.$$eval('#checkpoint-checks li', (items) => items.map((i) => ({ ok: i.className === 'ok', text: i.textContent }))),
    origin: await page.textContent('#checkpoint-origin'),
    size: await page.textContent('#checkpoint-size'),
    trust: await page.textContent('#vkeys-state'),
  };

  // The record, read from the entry bundles: the answer's entry opened and its inclusion checked in the page.
  await page.waitForSelector(`#record-list li[data-index="${env('RECORD_INDEX')}"]`);
  await page.selectOption('#record-type', 'inference');
  const inferenceRows = await page.$$eval('#record-list li button', (rows) => rows.map((r) => r.textContent));
  await page.click(`#record-list li[data-index="${env('RECORD_INDEX')}"] button`);
  await page.waitForFunction(() => document.getElementById('record-checks').dataset.ok);
  report.record = {
    inferenceRows,
    ok: await page.$eval('#record-checks', (e) => e.dataset.ok),
    checks: await page.$$eval('#record-checks li', (items) => items.map((i) => ({ ok: i.className === 'ok', name: i.dataset.check }))),
    detail: await page.textContent('#record-detail'),
    status: await page.textContent('#record-status'),
  };
  report.record.links = await page.$$eval('#record-links button', (items) => items.map((i) => i.textContent));
  if (process.env.SIOS_CONSOLE_SCREENSHOTS) {
    await page.locator('#record').screenshot({ path: `${process.env.SIOS_CONSOLE_SCREENSHOTS}/console-record.png` });
  }
  // Following the answer to the load of its brain.
  await page.$eval('#record-checks', (e) => { e.dataset.ok = ''; });
  await page.click('#record-links button[data-link^="the load of brain"]');
  await page.waitForFunction(() => document.getElementById('record-checks').dataset.ok);
  report.record.loaded = { detail: await page.textContent('#record-detail'), ok: await page.$eval('#record-checks', (e) => e.dataset.ok) };
  await page.selectOption('#record-type', '');
  await page.selectOption('#record-brain', 'demo');
  report.record.brainRows = await page.$$eval('#record-list li button', (rows) => rows.map((r) => r.textContent));

  const check = async (file) => {
    await page.$eval('#receipt-verdict', (e) => { e.dataset.ok = ''; });
    await page.setInputFiles('#receipt-file', file);
    await page.waitForFunction(() => document.getElementById('receipt-verdict').dataset.ok);
    return {
      ok: await page.$eval('#receipt-verdict', (e) => e.dataset.ok),
      verdict: await page.textContent('#receipt-verdict'),
      failed: await page.$$eval('#receipt-checks li.bad', (items) => items.map((i) => i.dataset.check)),
      entry: await page.textContent('#receipt-entry'),
    };
  };
  report.good = await check(env('RECEIPT_GOOD'));
  report.tampered = await check(env('RECEIPT_TAMPERED'));
  report.attestation = await check(env('ATTESTATION'));

  await page.fill('#vkeys', env('FOREIGN_VKEYS'));
  await page.click('#use-vkeys');
  report.foreign = await check(env('FOREIGN_RECEIPT'));
  report.foreign.scripts = await page.$$eval('script', (s) => s.length);
  report.foreign.images = await page.$$eval('img', (s) => s.length);
  report.foreign.xss = await page.evaluate(() => window.__sios_xss ?? null);
  if (process.env.SIOS_CONSOLE_SCREENSHOTS) {
    await page.locator('#verify').screenshot({ path: `${process.env.SIOS_CONSOLE_SCREENSHOTS}/console-receipt.png` });
  }

  // A disclosure of the answer, checked with the log's keys again.
  await page.click('#offered-vkeys');
  const disclosed = env('DISCLOSURE_FILES').split('\n');
  const disclose = async (files) => {
    await page.$eval('#disclosure-verdict', (e) => { e.dataset.ok = ''; });
    await page.setInputFiles('#disclosure-files', files);
    await page.waitForFunction(() => document.getElementById('disclosure-verdict').dataset.ok);
    return {
      ok: await page.$eval('#disclosure-verdict', (e) => e.dataset.ok),
      verdict: await page.textContent('#disclosure-verdict'),
      failed: await page.$$eval('#disclosure-checks li.bad', (items) => items.map((i) => i.dataset.check)),
    };
  };
  report.disclosure = await disclose(disclosed);
  report.disclosureAltered = await disclose(env('DISCLOSURE_ALTERED').split('\n'));

  // A user key: the log stays closed to it, the receipt of its own answer opens and verifies, another's is refused.
  const user = await (await browser.newContext()).newPage();
  user.setDefaultTimeout(30_000);
  user.on('pageerror', (error) => report.errors.push(String(error)));
  await user.goto(new URL('console/', env('SIOS_URL')).href);
  await user.fill('#key', env('USER_KEY'));
  await user.click('#key-form button[type=submit]');
  await user.fill('#vkeys', env('LOG_VKEYS'));
  await user.click('#use-vkeys');
  await user.waitForFunction(() => document.getElementById('checkpoint-checks').dataset.ok === 'false');
  const fetchReceipt = async (index) => {
    await user.$eval('#receipt-verdict', (e) => { e.dataset.ok = ''; });
    await user.fill('#receipt-index', index);
    await user.click('#receipt-fetch button[type=submit]');
    await user.waitForFunction(() => document.getElementById('receipt-verdict').dataset.ok);
    return { ok: await user.$eval('#receipt-verdict', (e) => e.dataset.ok), verdict: await user.textContent('#receipt-verdict') };
  };
  report.user = {
    checkpoint: await user.textContent('#checkpoint-checks'),
    records: await user.$$eval('#record-list li', (items) => items.length),
    own: await fetchReceipt(env('USER_INDEX')),
    other: await fetchReceipt(env('RECORD_INDEX')),
  };

  // The key stays for the tab's life, not beyond it.
  await page.reload();
  report.afterReload = await page.textContent('#key-state');
  const other = await (await browser.newContext()).newPage();
  await other.goto(new URL('console/', env('SIOS_URL')).href);
  report.otherTab = await other.textContent('#key-state');
} finally {
  await browser.close();
  clearTimeout(watchdog);
}
console.log(JSON.stringify(report));
