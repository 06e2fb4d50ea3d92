// Anthropic's official SDK (@anthropic-ai/sdk), unmodified, against a running SIOS gateway (SIOS_URL, SIOS_KEY, the
// demo's tool-capable brain SIOS_BRAIN): models in Anthropic's shape, messages.create and messages.stream plain and
// with a tool, a two-turn loop feeding a tool_result back, and the error shape of a refused request and of a bad key.
// Every exchange is recorded (exact request body, every response byte) so the C# side can verify each receipt.
import Anthropic from '@anthropic-ai/sdk';
import { recorder } from './recording.mjs';

const recording = recorder();
const options = { baseURL: process.env.SIOS_URL.replace(/\/$/, ''), fetch: recording.fetch, maxRetries: 0 };
const client = new Anthropic({ ...options, apiKey: process.env.SIOS_KEY });
const model = process.env.SIOS_BRAIN;
const tools = [
  {
    name: 'get_weather',
    description: 'The weather in a city',
    input_schema: {
      type: 'object',
      properties: { city: { type: 'string', enum: ['Paris', 'Oslo', 'Lima'] }, days: { type: 'integer' } },
      required: ['city', 'days'],
    },
  },
  {
    name: 'add',
    description: 'Adds two integers',
    input_schema: { type: 'object', properties: { a: { type: 'integer' }, b: { type: 'integer' } }, required: ['a', 'b'] },
  },
];
const question = { role: 'user', content: 'What is the weather in Paris for two days?' };
const results = {};

const models = [];
for await (const m of client.models.list()) models.push({ id: m.id, type: m.type });
results.models = models;

const plain = await client.messages.create({ model, max_tokens: 16, system: 'Be brief.', messages: [{ role: 'user', content: 'Say hello.' }] });
results.plain = { type: plain.type, role: plain.role, stop: plain.stop_reason, blocks: plain.content.map((b) => b.type), usage: plain.usage, id: plain.id };

const streamed = client.messages.stream({ model, max_tokens: 16, messages: [{ role: 'user', content: 'Count to three.' }] });
let text = '';
streamed.on('text', (delta) => { text += delta; });
const streamedMessage = await streamed.finalMessage();
results.stream = { stop: streamedMessage.stop_reason, text, same: streamedMessage.content[0]?.text === text, usage: streamedMessage.usage };

const forced = await client.messages.create({
  model, max_tokens: 400, tools, tool_choice: { type: 'tool', name: 'get_weather' }, messages: [question],
});
const use = forced.content.find((b) => b.type === 'tool_use');
results.tool = { stop: forced.stop_reason, name: use.name, input: use.input, id: use.id };

const streamedTool = client.messages.stream({
  model, max_tokens: 400, tools, tool_choice: { type: 'any', disable_parallel_tool_use: true }, messages: [question],
});
let partials = 0;
streamedTool.on('inputJson', () => { partials++; });
const toolMessage = await streamedTool.finalMessage();
const streamedUse = toolMessage.content.find((b) => b.type === 'tool_use');
results.streamTool = { stop: toolMessage.stop_reason, name: streamedUse.name, input: streamedUse.input, partials };

const loop = await client.messages.create({
  model, max_tokens: 12, tools, tool_choice: { type: 'none' },
  messages: [question, { role: 'assistant', content: forced.content },
    { role: 'user', content: [{ type: 'tool_result', tool_use_id: use.id, content: '{"forecast":"sunny"}' }] }],
});
results.loop = { stop: loop.stop_reason, blocks: loop.content.map((b) => b.type) };

try {
  await client.messages.create({ model, messages: [question] });
  results.refused = null;
} catch (e) {
  results.refused = { status: e.status, type: e.error?.type, errorType: e.error?.error?.type, message: e.error?.error?.message };
}

try {
  await new Anthropic({ ...options, apiKey: 'sk-not-a-key' }).messages.create({ model, max_tokens: 4, messages: [question] });
  results.badKey = null;
} catch (e) {
  results.badKey = { status: e.status, errorType: e.error?.error?.type };
}

await recording.report(results);
