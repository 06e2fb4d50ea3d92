// The console's overview, pictures, key administration, playground and exported-folder check, and the witness's
// console, in headless Chromium (the system's, at CHROMIUM). SIOS_URL serves with a witness policy; SIOS_KEY is an
// admin key; EXPORT_GOOD and EXPORT_BAD are folders written by `sios log export` (the second altered); WITNESS_URL is
// one of the node's witnesses. Prints what the pages showed as JSON on stdout; with SIOS_CONSOLE_SCREENSHOTS set to a
// folder, saves screenshots there.
import { chromium } from 'playwright-core';
import { openConsole, watchedPage } from './console-page.mjs';

const watchdog = setTimeout(() => {
  process.stderr.write('console-admin-e2e: no result after 180 s, giving up\n');
  process.exit(3);
}, 180_000);

const env = (name) => process.env[name] ?? (() => { throw new Error(`${name} is not set`); })();
const shots = process.env.SIOS_CONSOLE_SCREENSHOTS;
const browser = await chromium.launch({ executablePath: env('CHROMIUM'), args: ['--no-sandbox'] });
const report = { dialogs: [], errors: [] };
const checks = (page, list) => page.$$eval(`#${list} li`, (items) => items.map((i) => ({ ok: i.className === 'ok', name: i.dataset.check, text: i.textContent })));
const settled = (page, id) => page.waitForFunction((element) => document.getElementById(element).dataset.ok, id);
const reset = (page, id) => page.$eval(`#${id}`, (e) => { e.dataset.ok = ''; });
try {
  const page = await watchedPage(browser, report, { width: 1280, height: 900 });
  await openConsole(page, env('SIOS_URL'), env('SIOS_KEY'));
  await reset(page, 'attestation-checks');
  await page.click('#offered-witness-keys');
  await page.waitForFunction(() => document.querySelectorAll('#checkpoint-checks li').length > 3);
  await settled(page, 'attestation-checks');
  await settled(page, 'signer-checks');
  report.overview = {
    checkpoint: await checks(page, 'checkpoint-checks'),
    checkpointOk: await page.$eval('#checkpoint-checks', (e) => e.dataset.ok),
    witnessKeys: await page.textContent('#witness-keys-state'),
    unchecked: await page.textContent('#checkpoint-unchecked'),
    signers: await checks(page, 'signer-checks'),
    attestation: await checks(page, 'attestation-checks'),
    brains: await page.$$eval('#brains-table tr', (rows) => rows.map((r) => r.dataset.brain)),
    facts: await page.$$eval('#status-facts dd', (items) => Object.fromEntries(items.map((i) => [i.dataset.fact, i.textContent]))),
    witnesses: await page.$$eval('#witness-list li', (items) => items.map((i) => i.textContent)),
  };
  await page.waitForFunction(() => document.querySelector('#picture-seal svg') && document.querySelector('#picture-activity svg'));
  report.pictures = await page.$$eval('#pictures .chart', (charts) => charts.map((c) => ({ id: c.id, svg: c.querySelectorAll('svg').length, title: c.querySelector('svg title')?.textContent ?? null })));
  if (shots) {
    await page.locator('#overview').screenshot({ path: `${shots}/console-overview.png` });
    await page.locator('#pictures').screenshot({ path: `${shots}/console-pictures.png` });
  }

  // A key made and revoked from the page, each change sealed and its entry checked here.
  await page.fill('#new-key-name', 'console-made');
  await page.selectOption('#new-key-role', 'user');
  await page.fill('#new-key-brains', 'demo');
  await page.fill('#new-key-rpm', '5');
  await reset(page, 'key-checks');
  await page.click('#key-create button[type=submit]');
  await settled(page, 'key-checks');
  report.made = { result: await page.textContent('#key-result'), secret: await page.textContent('#key-secret'), checks: await checks(page, 'key-checks'), index: await page.$eval('#key-result', (e) => e.dataset.index) };
  await page.waitForSelector('#keys-table tr[data-key="console-made"] button[data-revoke]');
  report.made.row = await page.textContent('#keys-table tr[data-key="console-made"]');
  await reset(page, 'key-checks');
  await page.click('#keys-table button[data-revoke="console-made"]');
  await settled(page, 'key-checks');
  await page.waitForSelector('#keys-table tr[data-key="console-made"].revoked');
  report.revoked = { result: await page.textContent('#key-result'), checks: await checks(page, 'key-checks'), index: await page.$eval('#key-result', (e) => e.dataset.index), row: await page.textContent('#keys-table tr[data-key="console-made"]') };
  if (shots) await page.locator('#keys').screenshot({ path: `${shots}/console-keys.png` });

  // Two turns of a conversation, each answer's receipt and exact bytes checked as it arrives.
  await page.waitForSelector('#chat-brain option[value="demo"]', { state: 'attached' });
  await page.selectOption('#chat-brain', 'demo');
  await page.fill('#chat-max', '4');
  report.chat = [];
  for (const question of ['hello from the playground', 'and a second turn']) {
    await reset(page, 'chat-verdict');
    await page.fill('#chat-input', question);
    await page.click('#chat-form button[type=submit]');
    await settled(page, 'chat-verdict');
    report.chat.push({ ok: await page.$eval('#chat-verdict', (e) => e.dataset.ok), verdict: await page.textContent('#chat-verdict'), index: await page.$eval('#chat-verdict', (e) => e.dataset.index), checks: await checks(page, 'chat-checks') });
  }
  report.turns = await page.$$eval('#chat-output .turn', (turns) => turns.length);
  // A tool offered and required: the call streams in and is checked like any answer.
  await page.click('#chat-clear');
  await page.selectOption('#chat-brain', 'demo-tools');
  await page.fill('#chat-max', '400');
  await page.fill('#chat-tools', JSON.stringify([{ type: 'function', function: { name: 'lookup_weather', description: 'Weather for a city', parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] } } }]));
  await page.selectOption('#chat-tool-choice', 'required');
  await reset(page, 'chat-verdict');
  await page.fill('#chat-input', 'What is the weather in Oslo?');
  await page.click('#chat-form button[type=submit]');
  await settled(page, 'chat-verdict');
  report.tool = { ok: await page.$eval('#chat-verdict', (e) => e.dataset.ok), verdict: await page.textContent('#chat-verdict'), calls: await page.$eval('#chat-output .answer', (e) => e.dataset.toolCalls), answer: await page.textContent('#chat-output .answer'), index: await page.$eval('#chat-verdict', (e) => e.dataset.index) };
  if (shots) await page.locator('#playground').screenshot({ path: `${shots}/console-playground.png` });

  // Exported log folders, chosen with the directory picker: the genuine one intact, the altered one not.
  report.folders = {};
  for (const [name, dir] of [['good', env('EXPORT_GOOD')], ['bad', env('EXPORT_BAD')]]) {
    await reset(page, 'folder-verdict');
    await page.setInputFiles('#folder-files', dir);
    await settled(page, 'folder-verdict');
    report.folders[name] = { ok: await page.$eval('#folder-verdict', (e) => e.dataset.ok), verdict: await page.textContent('#folder-verdict'), failed: await page.$$eval('#folder-checks li.bad', (items) => items.map((i) => i.dataset.check)) };
  }

  // The witness's own console: what it cosigned, checked with the keys it offers.
  const witness = await watchedPage(browser, report, { width: 1280, height: 900 });
  await witness.goto(new URL('console/', env('WITNESS_URL')).href);
  await witness.click('#offered-witness-vkeys');
  await witness.waitForFunction(() => document.querySelectorAll('#witness-records li').length > 0 && document.querySelector('.witnessed-log ul')?.dataset.ok);
  report.witness = {
    state: await witness.textContent('#witness-state'),
    logs: await witness.$$eval('.witnessed-log', (blocks) => blocks.map((b) => ({ origin: b.dataset.origin, ok: b.querySelector('ul')?.dataset.ok, checks: [...b.querySelectorAll('li')].map((i) => ({ ok: i.className === 'ok', name: i.dataset.check })) }))),
    records: await witness.$$eval('#witness-records li', (items) => items.map((i) => ({ ok: i.className === 'ok', text: i.textContent }))),
  };
  if (shots) await witness.screenshot({ path: `${shots}/console-witness.png`, fullPage: true });
} finally {
  await browser.close();
  clearTimeout(watchdog);
}
console.log(JSON.stringify(report));
