// The official npm `ollama` client, unmodified, against a running SIOS gateway's Ollama door (SIOS_URL, SIOS_KEY,
// the demo's tool-capable brain SIOS_BRAIN): list, a streamed chat (the receipt rides in its last, done line), tools
// offered and a tool result fed back by tool_name, a JSON-schema format, generate and embed. Every inference exchange
// is recorded (exact request body, every response byte) so the C# side can verify each receipt; the listings and the
// refusals go through an unrecorded client, as they carry no receipt.
import { Ollama } from 'ollama';
import { recorder } from './recording.mjs';
import { question, tools } from './tools.mjs';

const recording = recorder();
const host = process.env.SIOS_URL.replace(/\/$/, '');
const headers = { Authorization: `Bearer ${process.env.SIOS_KEY}` };
const ollama = new Ollama({ host, fetch: recording.fetch, headers });
const unrecorded = new Ollama({ host, headers });
const model = process.env.SIOS_BRAIN;
const results = {};

results.models = (await unrecorded.list()).models.map((m) => m.name).sort();
results.version = (await unrecorded.version()).version;
results.show = (await unrecorded.show({ model: `${model}:latest` })).capabilities;

const stream = await ollama.chat({ model: 'demo:latest', messages: [question], stream: true, options: { num_predict: 6, seed: 1 } });
let text = '';
let done = null;
for await (const part of stream) {
  text += part.message.content;
  if (part.done) done = part;
}
results.stream = { text, model: done.model, done_reason: done.done_reason, eval_count: done.eval_count, sios: done.sios };

// Ollama has no tool_choice: the brain may call or not (this random-weights one babbles), so only what is certain is checked.
const offered = await ollama.chat({ model, tools, messages: [question], stream: true, options: { num_predict: 24, seed: 2 } });
let parts = 0;
let last = null;
for await (const part of offered) {
  parts++;
  last = part;
}
results.offered = { parts, done: last.done, done_reason: last.done_reason };

const history = [
  question,
  { role: 'assistant', content: '', tool_calls: [{ function: { name: 'get_weather', arguments: { city: 'Paris', days: 2 } } }] },
  { role: 'tool', content: '{"forecast":"sunny"}', tool_name: 'get_weather' },
];
const loop = await ollama.chat({ model, tools, messages: history, options: { num_predict: 8, seed: 3 } });
results.loop = { done: loop.done, role: loop.message.role, tool_calls: loop.message.tool_calls ?? null };

const format = { type: 'object', properties: { city: { type: 'string', enum: ['Paris', 'Oslo', 'Lima'] } }, required: ['city'] };
const structured = await ollama.chat({ model, messages: [question], format, options: { seed: 4, temperature: 0.5 } });
results.format = { content: JSON.parse(structured.message.content), done_reason: structured.done_reason };

const generated = await ollama.generate({ model: 'clinical', prompt: 'Why is the sky blue?', system: 'Be brief.', options: { num_predict: 5, seed: 5 } });
results.generate = { length: generated.response.length, done_reason: generated.done_reason, eval_count: generated.eval_count };

const embedded = await ollama.embed({ model: 'ledger', input: ['the record', 'the ledger'] });
results.embed = { count: embedded.embeddings.length, length: embedded.embeddings[0].length, model: embedded.model };

async function refusal(call) {
  try {
    await call();
    return null;
  } catch (e) {
    return { status: e.status_code, error: e.error };
  }
}

results.nokey = await refusal(() => new Ollama({ host }).list());
results.missing = await refusal(() => unrecorded.chat({ model: 'demo:v2', messages: [question] }));

await recording.report(results);
