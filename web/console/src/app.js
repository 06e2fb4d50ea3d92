// The console page. It only ever writes text into the page (textContent, never HTML): entries are attacker-influenced
// data, and the server's Content-Security-Policy allows no inline script either way. The API key and the verifier keys
// live in sessionStorage: gone when the tab closes.
import { showRecord } from './explorer.js';
import { showChecks } from './view.js';
import { parseVkey, toHex, verifyAttestation, verifyCheckpoint, verifyDisclosure, verifyReceipt } from './verify.js';

const $ = (id) => document.getElementById(id);
const KEY = 'sios-console-key';
const VKEYS = 'sios-console-vkeys';
const OFFERED = 'sios-console-vkeys-offered';

function say(element, text, ok) {
  element.textContent = text;
  element.dataset.ok = ok === undefined ? '' : String(ok);
  element.className = ok === false ? 'bad' : '';
}

async function api(path) {
  const key = sessionStorage.getItem(KEY);
  if (!key) throw new Error('enter an auditor or admin key first');
  const response = await fetch(path, { headers: { Authorization: `Bearer ${key}` }, cache: 'no-store' });
  if (!response.ok) {
    let message = `${response.status}`;
    try {
      message += `: ${(await response.json()).error.message}`;
    } catch {
      // Not an error object: the status says enough.
    }
    throw new Error(message);
  }
  return new Uint8Array(await response.arrayBuffer());
}

function vkeys() {
  const text = sessionStorage.getItem(VKEYS) ?? '';
  return text.split('\n').map((line) => line.trim()).filter((line) => line.length > 0).map(parseVkey);
}

async function loadCheckpoint() {
  const facts = $('checkpoint-facts');
  const list = $('checkpoint-checks');
  let keys;
  try {
    keys = vkeys();
  } catch (e) {
    say($('vkeys-state'), `These verifier keys cannot be used: ${e.message}`, false);
    return;
  }
  if (keys.length === 0 || !sessionStorage.getItem(KEY)) return;
  try {
    const note = await api('/log/checkpoint');
    const result = await verifyCheckpoint(note, keys);
    facts.replaceChildren();
    if (result.checkpoint) {
      for (const [term, value] of [['origin', result.checkpoint.origin], ['size', String(result.checkpoint.size)], ['root', toHex(result.checkpoint.root)]]) {
        const dt = document.createElement('dt');
        dt.textContent = term;
        const dd = document.createElement('dd');
        dd.textContent = value;
        dd.id = `checkpoint-${term}`;
        facts.append(dt, dd);
      }
    }
    showChecks(list, result.checks);
    // The record is shown only under a checkpoint that verified: its size bounds what the tiles are read for.
    if (result.ok) {
      await showRecord($('record'), { size: result.checkpoint.size, fetchLog: (path) => api(`/log/${path}`), vkeys });
    }
  } catch (e) {
    const userKey = e.message.startsWith('403');
    showChecks(list, [{ name: 'checkpoint', ok: false, detail: userKey ? `${e.message} This key may fetch the receipts of its own answers below.` : e.message }]);
  }
}

/** The verifier keys given, or null after saying in <verdict> why there are none to check with. */
function keysFor(verdict) {
  try {
    const keys = vkeys();
    if (keys.length === 0) throw new Error('no verifier keys given');
    return keys;
  } catch (e) {
    say(verdict, `Cannot check: ${e.message}`, false);
    return null;
  }
}

async function checkReceipt(name, bytes) {
  const verdict = $('receipt-verdict');
  const entry = $('receipt-entry');
  entry.textContent = '';
  const keys = keysFor(verdict);
  if (!keys) return;
  // One place to drop things: an attestation is told from a receipt by its first line.
  if (startsWithText(bytes, 'sios-attestation/v1\n')) {
    const attested = await verifyAttestation(bytes, keys);
    showChecks($('receipt-checks'), attested.checks);
    const wrong = attested.checks.find((c) => !c.ok);
    say(verdict, wrong ? `${name}: rejected (${wrong.name}: ${wrong.detail})` : `${name}: a valid attestation, statement ${attested.statement}`, !wrong);
    entry.textContent = (attested.lines ?? []).map(([keyword, value]) => `${keyword} ${value}`).join('\n');
    return;
  }
  const result = await verifyReceipt(bytes, keys);
  showChecks($('receipt-checks'), result.checks);
  const failed = result.checks.find((c) => !c.ok);
  say(verdict, failed ? `${name}: rejected (${failed.name}: ${failed.detail})` : `${name}: valid, entry ${result.index} of ${result.checkpoint.origin}`, !failed);
  if (result.entry) {
    const text = new TextDecoder().decode(result.entry);
    try {
      entry.textContent = JSON.stringify(JSON.parse(text), null, 2);
    } catch {
      entry.textContent = text;
    }
  }
}

async function checkDisclosure(fileList) {
  const verdict = $('disclosure-verdict');
  const keys = keysFor(verdict);
  if (!keys) return;
  const files = {};
  for (const file of fileList) files[file.name] = new Uint8Array(await file.arrayBuffer());
  const result = await verifyDisclosure(files, keys);
  showChecks($('disclosure-checks'), result.checks);
  const failed = result.checks.find((c) => !c.ok);
  say(verdict, failed ? `rejected (${failed.name}: ${failed.detail})` : `valid: these are the exact bytes of answer ${result.index}`, !failed);
}

/** Marks the verifier keys as the server's own word, not an independent source. */
function sayOffered(element) {
  say(element, 'These are the keys this server offered: check them against a copy you trust.');
  element.className = 'offered';
}

function startsWithText(bytes, text) {
  const prefix = new TextEncoder().encode(text);
  return bytes.length >= prefix.length && prefix.every((b, i) => bytes[i] === b);
}

function start() {
  const keyState = $('key-state');
  const vkeysState = $('vkeys-state');
  $('vkeys').value = sessionStorage.getItem(VKEYS) ?? '';
  if (sessionStorage.getItem(OFFERED) === 'true') sayOffered(vkeysState);
  say(keyState, sessionStorage.getItem(KEY) ? 'A key is in use in this tab.' : 'No key yet.');

  $('key-form').addEventListener('submit', (event) => {
    event.preventDefault();
    const key = $('key').value.trim();
    $('key').value = '';
    if (!key) return;
    sessionStorage.setItem(KEY, key);
    say(keyState, 'A key is in use in this tab.');
    loadCheckpoint();
  });
  $('forget').addEventListener('click', () => {
    sessionStorage.removeItem(KEY);
    say(keyState, 'No key yet.');
  });
  $('use-vkeys').addEventListener('click', () => {
    sessionStorage.setItem(VKEYS, $('vkeys').value);
    sessionStorage.setItem(OFFERED, 'false');
    say(vkeysState, 'Checking with the keys you gave.');
    loadCheckpoint();
  });
  $('offered-vkeys').addEventListener('click', async () => {
    try {
      const text = new TextDecoder().decode(await api('/log/vkeys'));
      $('vkeys').value = text;
      sessionStorage.setItem(VKEYS, text);
      sessionStorage.setItem(OFFERED, 'true');
      sayOffered(vkeysState);
      await loadCheckpoint();
    } catch (e) {
      say(vkeysState, `The server's keys could not be read: ${e.message}`, false);
    }
  });

  $('disclosure-files').addEventListener('change', (event) => {
    if (event.target.files.length > 0) checkDisclosure(event.target.files);
  });
  const drop = $('drop');
  const checkFile = async (file) => checkReceipt(file.name, new Uint8Array(await file.arrayBuffer()));
  $('receipt-file').addEventListener('change', (event) => {
    const [file] = event.target.files;
    if (file) checkFile(file);
  });
  // A user key may fetch the receipts of its own answers only: the server refuses the others, and says so.
  $('receipt-fetch').addEventListener('submit', async (event) => {
    event.preventDefault();
    const index = $('receipt-index').value.trim();
    if (!/^[0-9]+$/.test(index)) return;
    try {
      await checkReceipt(`receipt ${index}`, await api(`/log/receipts/${index}`));
    } catch (e) {
      $('receipt-checks').replaceChildren();
      say($('receipt-verdict'), `The receipt of entry ${index} could not be fetched: ${e.message}`, false);
    }
  });
  drop.addEventListener('dragover', (event) => { event.preventDefault(); drop.classList.add('over'); });
  drop.addEventListener('dragleave', () => drop.classList.remove('over'));
  drop.addEventListener('drop', (event) => {
    event.preventDefault();
    drop.classList.remove('over');
    const [file] = event.dataTransfer.files;
    if (file) checkFile(file);
  });
  loadCheckpoint();
}

start();
