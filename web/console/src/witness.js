// The witness's console: the logs a witness follows and every checkpoint it cosigned, each cosignature checked here
// against the witness's vkeys (pasted, or offered by the witness and marked so), and each log's own signatures against
// the log keys the witness is configured with. Everything shown is text (textContent); nothing needs a key.
import { parseVkey, toHex, verifyCheckpoint } from './verify.js';
import { showChecks } from './view.js';

const $ = (id) => document.getElementById(id);
const VKEYS = 'sios-witness-vkeys';
const OFFERED = 'sios-witness-vkeys-offered';
const encoder = new TextEncoder();

async function getJson(path) {
  const response = await fetch(path, { cache: 'no-store' });
  if (!response.ok) throw new Error(`${response.status}: ${(await response.text()).trim()}`);
  return response.json();
}

function witnessKeys() {
  return (sessionStorage.getItem(VKEYS) ?? '').split('\n').map((l) => l.trim()).filter((l) => l.length > 0).map(parseVkey);
}

function say(text, ok) {
  const state = $('witness-state');
  state.textContent = text;
  state.className = ok === false ? 'bad' : sessionStorage.getItem(OFFERED) === 'true' ? 'offered' : '';
}

/** The checks of one cosigned note: by the witness's keys, then (when given) by the log's keys. */
async function checkNote(note, keys, logKeys) {
  const bytes = encoder.encode(note);
  const byWitness = await verifyCheckpoint(bytes, keys);
  const checks = [...byWitness.checks];
  if (logKeys.length > 0) {
    const byLog = await verifyCheckpoint(bytes, logKeys);
    checks.push(...byLog.checks.filter((c) => c.name !== 'checkpoint format'));
  }
  return { checkpoint: byWitness.checkpoint, checks };
}

async function showLogs(keys) {
  const { logs } = await getJson('/witness/logs');
  const blocks = [];
  for (const log of logs) {
    const block = document.createElement('div');
    block.className = 'witnessed-log';
    block.dataset.origin = log.origin;
    const title = document.createElement('h3');
    title.textContent = log.origin;
    const facts = document.createElement('p');
    const list = document.createElement('ul');
    list.className = 'checks';
    block.append(title, facts, list);
    if (log.latest === null) {
      facts.textContent = 'Nothing cosigned yet.';
    } else {
      let logKeys = [];
      try {
        logKeys = log.vkeys.map(parseVkey);
      } catch (e) {
        facts.textContent = `The log keys configured here cannot be read: ${e.message}`;
      }
      const { checkpoint, checks } = await checkNote(log.latest, keys, logKeys);
      if (checkpoint) facts.textContent = `Latest cosigned: size ${checkpoint.size}, root ${toHex(checkpoint.root)}`;
      showChecks(list, checks);
    }
    blocks.push(block);
  }
  $('log-list').replaceChildren(...blocks);
}

let next = 0;

async function showRecord(keys, from) {
  const page = await getJson(`/witness/record?from=${from}`);
  const list = $('witness-records');
  if (from === 0) list.replaceChildren();
  for (const record of page.records) {
    const item = document.createElement('li');
    item.dataset.offset = String(record.offset);
    const { checkpoint, checks } = await checkNote(record.note, keys, []);
    const bad = checks.find((c) => !c.ok);
    item.className = bad ? 'bad' : 'ok';
    item.textContent = checkpoint
      ? `${checkpoint.origin} size ${checkpoint.size}: ${bad ? `${bad.name}: ${bad.detail}` : 'cosignatures verified'}`
      : `a record that is not a checkpoint: ${bad?.detail}`;
    list.append(item);
  }
  next = page.next;
  $('record-next').hidden = page.records.length === 0;
  $('record-state').textContent = `${list.children.length} cosignature(s) shown.`;
}

async function load() {
  let keys;
  try {
    keys = witnessKeys();
  } catch (e) {
    say(`These keys cannot be used: ${e.message}`, false);
    return;
  }
  if (keys.length === 0) return;
  try {
    await showLogs(keys);
    await showRecord(keys, 0);
  } catch (e) {
    $('record-state').textContent = `The witness could not be read: ${e.message}`;
  }
}

function start() {
  $('witness-vkeys').value = sessionStorage.getItem(VKEYS) ?? '';
  if (sessionStorage.getItem(OFFERED) === 'true') say('These are the keys this witness offered: check them against a copy you trust.');
  $('use-witness-vkeys').addEventListener('click', () => {
    sessionStorage.setItem(VKEYS, $('witness-vkeys').value);
    sessionStorage.setItem(OFFERED, 'false');
    say('Checking with the keys you gave.');
    load();
  });
  $('offered-witness-vkeys').addEventListener('click', async () => {
    try {
      const { vkeys } = await getJson('/witness/logs');
      const text = vkeys.join('\n');
      $('witness-vkeys').value = text;
      sessionStorage.setItem(VKEYS, text);
      sessionStorage.setItem(OFFERED, 'true');
      say('These are the keys this witness offered: check them against a copy you trust.');
      await load();
    } catch (e) {
      say(`The witness's keys could not be read: ${e.message}`, false);
    }
  });
  $('record-next').addEventListener('click', () => showRecord(witnessKeys(), next).catch((e) => { $('record-state').textContent = e.message; }));
  load();
}

start();
