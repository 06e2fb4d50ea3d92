// The console page. It only ever writes text into the page (textContent, never HTML): entries are attacker-influenced
// data, and the server's Content-Security-Policy allows no inline script either way. The API key and the verifier keys
// live in sessionStorage: gone when the tab closes.
import { showRecord } from './explorer.js';
import { verifyLogFolder } from './folder.js';
import { setUpKeys } from './keys.js';
import { showOverview } from './overview.js';
import { drawRecord, sampleLive } from './pictures.js';
import { setUpPlayground } from './playground.js';
import { showChecks } from './view.js';
import { parseNote, parseVkey, toHex, verifyAttestation, verifyCheckpoint, verifyDisclosure, verifyReceipt } from './verify.js';

const $ = (id) => document.getElementById(id);
const KEY = 'sios-console-key';
const VKEYS = 'sios-console-vkeys';
const OFFERED = 'sios-console-vkeys-offered';
const WITNESS_KEYS = 'sios-console-witness-keys';
const WITNESS_OFFERED = 'sios-console-witness-keys-offered';

function say(element, text, ok) {
  element.textContent = text;
  element.dataset.ok = ok === undefined ? '' : String(ok);
  element.className = ok === false ? 'bad' : '';
}

/** The server's response to <path> with the key in use; throws with the server's error message when it is not a 2xx. */
async function request(path, init = {}) {
  const key = sessionStorage.getItem(KEY);
  if (!key) throw new Error('enter an auditor or admin key first');
  const headers = { Authorization: `Bearer ${key}`, ...(init.headers ?? {}) };
  const response = await fetch(path, { ...init, headers, cache: 'no-store' });
  if (!response.ok) {
    let message = `${response.status}`;
    try {
      message += `: ${(await response.json()).error.message}`;
    } catch {
      // Not an error object: the status says enough.
    }
    throw new Error(message);
  }
  return response;
}

async function api(path) {
  return new Uint8Array(await (await request(path)).arrayBuffer());
}

async function call(method, path, body) {
  const init = { method };
  if (body !== undefined) {
    init.body = JSON.stringify(body);
    init.headers = { 'Content-Type': 'application/json' };
  }
  return (await request(path, init)).json();
}

const fetchLog = (path) => api(`/log/${path}`);

/** Says which signature lines of a checkpoint were not checked, for want of a key: a witness's, say. */
function unchecked(note, keys) {
  try {
    const others = parseNote(note).signatures.filter((s) => !keys.some((k) => k.name === s.name && toHex(k.id) === toHex(s.id)));
    return others.length === 0 ? '' : `Not checked, for want of their keys: ${others.map((s) => `${s.name}+${toHex(s.id)}`).join(', ')}.`;
  } catch {
    return '';
  }
}

function keyList(name) {
  const text = sessionStorage.getItem(name) ?? '';
  return text.split('\n').map((line) => line.trim()).filter((line) => line.length > 0).map(parseVkey);
}

/** The log's verifier keys: every receipt and checkpoint is checked with all of them. */
const vkeys = () => keyList(VKEYS);

/** Witnesses' keys: their cosignatures on the latest checkpoint are checked too (a fresh receipt has none yet). */
function witnessKeys() {
  try {
    return keyList(WITNESS_KEYS);
  } catch (e) {
    say($('witness-keys-state'), `These witness keys cannot be used: ${e.message}`, false);
    return [];
  }
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
    const cosigned = await verifyCheckpoint(note, witnessKeys());
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
    showChecks(list, [...result.checks, ...cosigned.checks.filter((c) => c.name !== 'checkpoint format')]);
    $('checkpoint-unchecked').textContent = unchecked(note, [...keys, ...witnessKeys()]);
    // The record is shown only under a checkpoint that verified: its size bounds what the tiles are read for.
    if (result.ok) {
      stopSampling();
      stopSampling = sampleLive($('pictures'), {
        fetchText: async (path) => (await request(path)).text(),
        fetchJson: (path) => call('GET', path),
        onError: (e) => say($('pictures-state'), `The live pictures could not be sampled: ${e.message}`, false),
      });
      await Promise.all([
        showRecord($('record'), { size: result.checkpoint.size, fetchLog, vkeys, onRows: (rows) => drawRecord($('pictures'), rows) }),
        showOverview($('overview'), { fetchJson: (path) => call('GET', path), fetchLog, keys, useKeys }).catch((e) => say($('status-state'), `The node's status could not be read: ${e.message}`, false)),
        listKeys().catch((e) => say($('keys-state'), e.message.startsWith('403') ? 'Managing keys needs an admin key.' : `The keys could not be listed: ${e.message}`, false)),
      ]);
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

/** Keeps <text> as the witness keys (offered by the server or not) and checks again. */
function setWitnessKeys(text, offered) {
  $('witness-keys').value = text;
  sessionStorage.setItem(WITNESS_KEYS, text);
  sessionStorage.setItem(WITNESS_OFFERED, String(offered));
  if (offered) sayOffered($('witness-keys-state'));
  else say($('witness-keys-state'), 'Checking witness cosignatures with the keys you gave.');
  loadCheckpoint();
}

/** Checks a folder written by `sios log export`, chosen with a directory picker: nothing of it is sent anywhere. */
async function checkFolder(fileList) {
  const verdict = $('folder-verdict');
  const keys = keysFor(verdict);
  if (!keys) return;
  const files = new Map([...fileList].map((file) => [file.webkitRelativePath || file.name, file]));
  say(verdict, `Checking ${files.size} files…`);
  const result = await verifyLogFolder(files, keys, (done, total) => say(verdict, `Checking: ${done} of ${total} entries hashed…`));
  showChecks($('folder-checks'), result.checks);
  const failed = result.checks.find((c) => !c.ok);
  say(verdict, failed ? `not intact (${failed.name}: ${failed.detail})` : `intact: ${result.entries} entries and ${result.tiles} tiles agree with the checkpoint at size ${result.size}`, !failed);
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

let listKeys = async () => {};
let stopSampling = () => {};

/** Checks from now on with <texts> (vkeys a verified chain of rotations led to). */
function useKeys(texts) {
  const text = texts.join('\n');
  $('vkeys').value = text;
  sessionStorage.setItem(VKEYS, text);
  sessionStorage.setItem(OFFERED, 'false');
  say($('vkeys-state'), 'Checking with the keys the verified rotations lead to.');
  loadCheckpoint();
}

async function models() {
  const { data } = await call('GET', '/v1/models');
  return data.map((m) => String(m.id));
}

function start() {
  listKeys = setUpKeys($('keys'), { call, fetchLog, keys: vkeys });
  const fillBrains = setUpPlayground($('playground'), {
    models,
    send: (body) => request('/v1/chat/completions', { method: 'POST', body, headers: { 'Content-Type': 'application/json' } }),
    fetchLog,
    keys: vkeys,
  });
  const brains = () => fillBrains().catch((e) => say($('chat-state'), `The brains could not be listed: ${e.message}`, false));
  const keyState = $('key-state');
  const vkeysState = $('vkeys-state');
  $('vkeys').value = sessionStorage.getItem(VKEYS) ?? '';
  $('witness-keys').value = sessionStorage.getItem(WITNESS_KEYS) ?? '';
  if (sessionStorage.getItem(WITNESS_OFFERED) === 'true') sayOffered($('witness-keys-state'));
  $('use-witness-keys').addEventListener('click', () => setWitnessKeys($('witness-keys').value, false));
  $('offered-witness-keys').addEventListener('click', async () => {
    try {
      const status = await call('GET', '/status');
      if (!status.witness_vkeys) throw new Error('this node has no witness policy');
      setWitnessKeys(status.witness_vkeys.join('\n'), true);
    } catch (e) {
      say($('witness-keys-state'), `The policy's witness keys could not be read: ${e.message}`, false);
    }
  });
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
    brains();
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

  $('folder-files').addEventListener('change', (event) => {
    if (event.target.files.length > 0) checkFolder(event.target.files).catch((e) => say($('folder-verdict'), `The folder could not be checked: ${e.message}`, false));
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
  if (sessionStorage.getItem(KEY)) brains();
}

start();
