// Tool calling through the official npm `openai` client, unmodified, against a running SIOS gateway (SIOS_URL,
// SIOS_KEY, the demo's tool-capable brain SIOS_BRAIN): a required call, a streamed named call assembled from its
// delta.tool_calls fragments, and a two-turn loop that feeds a tool result back. Every exchange is recorded (exact
// request body, every response byte) so the C# side can verify each receipt.
import OpenAI from 'openai';
import { recorder } from './recording.mjs';
import { question, tools } from './tools.mjs';

const recording = recorder();

const client = new OpenAI({
  baseURL: `${process.env.SIOS_URL.replace(/\/$/, '')}/v1`,
  apiKey: process.env.SIOS_KEY,
  fetch: recording.fetch,
  maxRetries: 0,
});
const model = process.env.SIOS_BRAIN;
const results = {};

const required = await client.chat.completions.create({
  model, tools, tool_choice: 'required', parallel_tool_calls: false, messages: [question], max_tokens: 400, seed: 7,
});
const call = required.choices[0].message.tool_calls[0];
results.required = {
  finish: required.choices[0].finish_reason,
  calls: required.choices[0].message.tool_calls.length,
  name: call.function.name,
  arguments: JSON.parse(call.function.arguments),
  content: required.choices[0].message.content,
};

const stream = await client.chat.completions.create({
  model, tools, tool_choice: { type: 'function', function: { name: 'get_weather' } }, messages: [question],
  max_tokens: 400, seed: 8, stream: true, stream_options: { include_usage: true },
});
const assembled = [];
let finish = null;
let fragments = 0;
for await (const chunk of stream) {
  for (const delta of chunk.choices[0]?.delta?.tool_calls ?? []) {
    if (delta.function?.arguments) fragments++;
    assembled[delta.index] ??= { id: '', name: '', arguments: '' };
    assembled[delta.index].id += delta.id ?? '';
    assembled[delta.index].name += delta.function?.name ?? '';
    assembled[delta.index].arguments += delta.function?.arguments ?? '';
  }
  finish = chunk.choices[0]?.finish_reason ?? finish;
}
results.stream = { finish, calls: assembled.length, name: assembled[0].name, arguments: JSON.parse(assembled[0].arguments), id: assembled[0].id, fragments };

const history = [question, required.choices[0].message, { role: 'tool', tool_call_id: call.id, content: '{"forecast":"sunny"}' }];
const second = await client.chat.completions.create({ model, tools, tool_choice: 'none', messages: history, max_tokens: 16, seed: 9 });
results.loop = { finish: second.choices[0].finish_reason, content: second.choices[0].message.content, tool_calls: second.choices[0].message.tool_calls ?? null };

await recording.report(results);
