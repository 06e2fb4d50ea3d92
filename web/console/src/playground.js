// The chat playground: a streamed answer from any brain the key may use, shown as it arrives, and once its `: sios`
// comment arrives, checked here: the receipt of its entry verified, and the exact request bytes sent and response
// bytes received matched to the commitments the sealed entry carries — the same checks as a disclosure.
import { DisclosureFiles, verifyDisclosure } from './verify.js';
import { showChecks } from './view.js';

const encoder = new TextEncoder();
const decoder = new TextDecoder();
const MARK = encoder.encode(': sios ');
const MAX_STREAM_BYTES = 16 << 20;

/** Where the `: sios` comment line starts in <bytes> (at a line start), or -1. */
export function receiptLineAt(bytes) {
  outer: for (let i = 0; i + MARK.length <= bytes.length; i++) {
    if (i > 0 && bytes[i - 1] !== 0x0a) continue;
    for (let j = 0; j < MARK.length; j++) if (bytes[i + j] !== MARK[j]) continue outer;
    return i;
  }
  return -1;
}

/** Wires the playground in <root>. <models()> lists the brains the key may use; <send(body bytes)> posts a stream; <fetchLog>, <keys> check it. */
export function setUpPlayground(root, { models, send, fetchLog, keys }) {
  const $ = (id) => root.querySelector(`#${id}`);
  const history = [];

  async function fill() {
    const names = await models();
    $('chat-brain').replaceChildren(...names.map((n) => new Option(n, n)));
    $('chat-state').textContent = names.length > 0 ? '' : 'This key may use no brain.';
  }

  async function ask(text) {
    const output = $('chat-output');
    const checks = $('chat-checks');
    const verdict = $('chat-verdict');
    checks.replaceChildren();
    verdict.textContent = 'streaming…';
    verdict.dataset.ok = '';
    const turn = document.createElement('div');
    turn.className = 'turn';
    const asked = document.createElement('p');
    asked.className = 'asked';
    asked.textContent = text;
    const answer = document.createElement('p');
    answer.className = 'answer';
    turn.append(asked, answer);
    output.append(turn);

    const messages = [...history, { role: 'user', content: text }];
    const body = { model: $('chat-brain').value, messages, stream: true, max_tokens: Number($('chat-max').value) || 64 };
    const tools = $('chat-tools').value.trim();
    if (tools) {
      // Offered as written: the server says what is wrong with them, and the commitment covers these very bytes.
      body.tools = JSON.parse(tools);
      body.tool_choice = $('chat-tool-choice').value;
    }
    const request = encoder.encode(JSON.stringify(body));
    const response = await send(request);
    const reader = response.body.getReader();
    const chunks = [];
    let length = 0;
    let pending = '';
    let said = '';
    let calls = 0;
    const streamDecoder = new TextDecoder();
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      length += value.length;
      if (length > MAX_STREAM_BYTES) {
        await reader.cancel();
        throw new Error('the stream is larger than this page reads');
      }
      chunks.push(value);
      pending += streamDecoder.decode(value, { stream: true });
      const lines = pending.split('\n');
      pending = lines.pop();
      for (const line of lines) {
        if (!line.startsWith('data: ') || line === 'data: [DONE]') continue;
        try {
          const delta = JSON.parse(line.slice(6)).choices?.[0]?.delta ?? {};
          if (typeof delta.content === 'string') said += delta.content;
          for (const call of delta.tool_calls ?? []) {
            if (call.function?.name) {
              calls += 1;
              said += `\n[tool call ${call.function.name}] `;
            }
            if (call.function?.arguments) said += call.function.arguments;
          }
          answer.textContent = said;
        } catch {
          // A line that is not a chunk is not shown; the commitment check below covers every byte anyway.
        }
      }
    }
    history.push(messages.at(-1), { role: 'assistant', content: said });
    answer.dataset.toolCalls = String(calls);
    const bytes = new Uint8Array(length);
    let at = 0;
    for (const chunk of chunks) { bytes.set(chunk, at); at += chunk.length; }
    const mark = receiptLineAt(bytes);
    if (mark < 0) {
      verdict.textContent = 'The stream ended without its receipt (: sios): this answer was not sealed.';
      verdict.dataset.ok = 'false';
      return;
    }
    const end = bytes.indexOf(0x0a, mark);
    const sios = JSON.parse(decoder.decode(bytes.subarray(mark + MARK.length, end < 0 ? bytes.length : end)));
    const files = {
      [DisclosureFiles.request]: request,
      [DisclosureFiles.response]: bytes.subarray(0, mark),
      [DisclosureFiles.requestNonce]: encoder.encode(sios.request_nonce),
      [DisclosureFiles.responseNonce]: encoder.encode(sios.response_nonce),
      [DisclosureFiles.receipt]: await fetchLog(`receipts/${sios.index}`),
    };
    const result = await verifyDisclosure(files, keys());
    showChecks(checks, result.checks);
    const failed = result.checks.find((c) => !c.ok);
    verdict.textContent = failed ? `Not verified (${failed.name}: ${failed.detail})` : `Sealed as entry ${sios.index}: these exact bytes are what the log committed to.`;
    verdict.dataset.ok = String(!failed);
    verdict.dataset.index = String(sios.index);
  }

  $('chat-form').addEventListener('submit', (event) => {
    event.preventDefault();
    const text = $('chat-input').value.trim();
    if (!text) return;
    $('chat-input').value = '';
    ask(text).catch((e) => {
      $('chat-verdict').textContent = `No answer: ${e.message}`;
      $('chat-verdict').dataset.ok = 'false';
    });
  });
  $('chat-clear').addEventListener('click', () => {
    history.length = 0;
    $('chat-output').replaceChildren();
  });
  return fill;
}
