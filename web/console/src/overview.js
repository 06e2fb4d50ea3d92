// The overview: what the node says it serves (/status, the server's word, marked so) checked against what the record
// proves — the latest attestation, verified here and matched to its sealed entry, compared with the brains, egress and
// config the node reports now; the signer keys, with every rotation since the keys the user trusts followed here.
import { followRotations, sameVkeys } from './rotations.js';
import { verifyAttestation, verifyReceipt } from './verify.js';
import { showChecks } from './view.js';

const digest = (value) => String(value ?? '').replace(/^sha256:/, '');
const decoder = new TextDecoder();

function facts(list, pairs) {
  list.replaceChildren(...pairs.flatMap(([term, value]) => {
    const dt = document.createElement('dt');
    dt.textContent = term;
    const dd = document.createElement('dd');
    dd.textContent = value;
    dd.dataset.fact = term;
    return [dt, dd];
  }));
}

function cell(row, text, className) {
  const td = document.createElement('td');
  td.textContent = text;
  if (className) td.className = className;
  row.append(td);
}

/** What the attestation's lines say of brains, egress and config, to compare with what the node reports now. */
function stated(lines) {
  const brains = new Map();
  const egress = [];
  let config = null;
  for (const [keyword, value] of lines) {
    if (keyword === 'brain') {
      const f = value.split(' ');
      brains.set(f[0], f[1] === 'upstream' ? `upstream ${f[2]} ${f[3]}` : `weights ${digest(f[2])} adapter ${f[4] === 'none' ? 'none' : digest(f[4])}`);
    } else if (keyword === 'egress' && value !== 'none') {
      egress.push(value);
    } else if (keyword === 'config') {
      config = value;
    }
  }
  return { brains, egress, config };
}

function reported(status) {
  const brains = new Map(status.brains.map((b) => [b.name, b.kind === 'upstream'
    ? `upstream ${b.url} ${b.model}` : `weights ${digest(b.weights)} adapter ${b.adapter ? digest(b.adapter) : 'none'}`]));
  return { brains, egress: status.egress.hosts, config: status.config };
}

function compare(said, now) {
  const checks = [];
  const names = [...new Set([...said.brains.keys(), ...now.brains.keys()])].sort();
  for (const name of names) {
    const then = said.brains.get(name);
    const current = now.brains.get(name);
    checks.push(then === current
      ? { name: `brain ${name}`, ok: true, detail: `as attested: ${current}` }
      : { name: `brain ${name}`, ok: false, detail: !then ? 'served now but not in the attestation' : !current ? 'attested but no longer served' : `attested ${then}, served now ${current}` });
  }
  checks.push(sameVkeys(said.egress, now.egress)
    ? { name: 'egress', ok: true, detail: said.egress.length === 0 ? 'none, as attested' : `${said.egress.join(', ')}, as attested` }
    : { name: 'egress', ok: false, detail: `attested ${said.egress.join(', ') || 'none'}, allowed now ${now.egress.join(', ') || 'none'}` });
  checks.push(said.config === now.config
    ? { name: 'config', ok: true, detail: `${now.config}, as attested` }
    : { name: 'config', ok: false, detail: `attested ${said.config}, running with ${now.config}` });
  return checks;
}

async function attestationChecks(index, { fetchLog, keys }) {
  const note = await fetchLog('attestation');
  const attested = await verifyAttestation(note, keys);
  const checks = [...attested.checks];
  // The statement kept in the data folder must be the one the log sealed: its entry records the statement's digest.
  const receipt = await verifyReceipt(await fetchLog(`receipts/${index}`), keys);
  let entry = null;
  try {
    entry = JSON.parse(decoder.decode(receipt.entry));
  } catch {
    entry = null;
  }
  checks.push(receipt.ok && entry?.type === 'attestation' && entry.statement === attested.statement
    ? { name: 'attestation sealed', ok: true, detail: `entry ${index} of the log records this statement (${attested.statement})` }
    : { name: 'attestation sealed', ok: false, detail: receipt.ok ? `entry ${index} does not record this statement` : `the receipt of entry ${index} does not verify` });
  return { checks, lines: attested.lines ?? [] };
}

/**
 * Fills the overview in <root> from /status and the log. <fetchLog(path)> reads under /log/, <fetchJson(path)> reads
 * JSON from the server, <keys> are the verifier keys the user gave, <useKeys(texts)> offers the keys a verified chain
 * of rotations leads to.
 */
export async function showOverview(root, { fetchJson, fetchLog, keys, useKeys }) {
  const $ = (id) => root.querySelector(`#${id}`);
  const status = await fetchJson('/status');
  facts($('status-facts'), [
    ['origin', status.origin],
    ['log size', String(status.log_size)],
    ['published size', String(status.published_size)],
    ['config', status.config],
    ['egress', status.egress.offline ? 'none (offline)' : status.egress.hosts.join(', ')],
    ['brains memory', `${mib(status.memory.used_bytes)} of ${mib(status.memory.budget_bytes)} MiB (peak ${mib(status.memory.peak_bytes)})`],
  ]);
  $('brains-table').replaceChildren(...status.brains.map((b) => {
    const row = document.createElement('tr');
    row.dataset.brain = b.name;
    cell(row, b.name);
    cell(row, b.kind);
    cell(row, b.kind === 'upstream' ? `${b.url} ${b.model}` : b.weights, 'digest');
    cell(row, b.adapter ?? '');
    cell(row, b.loaded ? 'loaded' : 'not loaded');
    return row;
  }));
  $('witness-list').replaceChildren(...(status.witnessing?.witnesses ?? []).map((w) => {
    const item = document.createElement('li');
    item.textContent = `${w.name}: ${w.state}, holds size ${w.held_size} (${status.log_size - w.held_size} behind), ${w.cosigned} cosigned, ${w.refused} refused`;
    if (w.state === 'refused') item.className = 'bad';
    return item;
  }));
  $('witness-none').hidden = Boolean(status.witnessing);

  const signers = await fetchJson('/log/signers');
  const followed = await followRotations(keys, signers.rotations);
  const current = signers.current.filter((k) => !signers.additions.some((a) => a.vkey === k));
  const arrived = sameVkeys(followed.keys.map((k) => k.text), current);
  const signerChecks = [...followed.checks, arrived
    ? { name: 'signing keys', ok: true, detail: followed.checks.length === 0 ? 'the keys you gave are the ones that sign now' : 'the rotations lead from the keys you gave to the ones that sign now' }
    : { name: 'signing keys', ok: false, detail: 'the keys you gave do not lead to the keys that sign now through the rotations the log records' }];
  for (const added of signers.additions) signerChecks.push({ name: 'Ed25519 key added', ok: true, detail: `${added.vkey} signs from size ${added.from_size} (listed by the server; give it with the others to check its lines)` });
  showChecks($('signer-checks'), signerChecks);
  $('signer-rotations').textContent = `${signers.rotations.length} rotation(s) recorded; signing now: ${signers.current.join(' ')}`;
  const use = $('signer-use');
  use.hidden = !(arrived && followed.checks.length > 0);
  use.onclick = () => useKeys(followed.keys.map((k) => k.text));

  if (status.attestation === null) {
    showChecks($('attestation-checks'), [{ name: 'attestation', ok: false, detail: 'this node has sealed no attestation' }]);
  } else {
    const { checks, lines } = await attestationChecks(status.attestation, { fetchLog, keys });
    showChecks($('attestation-checks'), [...checks, ...compare(stated(lines), reported(status))]);
  }
  return status;
}

function mib(bytes) {
  return (Number(bytes) / (1 << 20)).toFixed(1);
}
