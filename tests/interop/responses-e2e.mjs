// The Responses API through unmodified clients against a running SIOS gateway (SIOS_URL, SIOS_KEY, the demo's
// tool-capable brain SIOS_BRAIN): npm `openai` responses.create (plain, streamed, a function tool, previous_response_id,
// a function_call_output fed back), retrieve and delete; and the Vercel AI SDK's default provider `openai(id)`, which
// speaks the Responses API, with and without tools. Every exchange is recorded so the C# side can verify each receipt.
import OpenAI from 'openai';
import { createOpenAI } from '@ai-sdk/openai';
import { generateText, streamText, tool, stepCountIs } from 'ai';
import { z } from 'zod';
import { recorder } from './recording.mjs';

const recording = recorder();
const baseURL = `${process.env.SIOS_URL.replace(/\/$/, '')}/v1`;
const client = new OpenAI({ baseURL, apiKey: process.env.SIOS_KEY, fetch: recording.fetch, maxRetries: 0 });
const model = process.env.SIOS_BRAIN;
const weather = {
  type: 'function',
  name: 'get_weather',
  description: 'The weather in a city',
  parameters: {
    type: 'object',
    properties: { city: { type: 'string', enum: ['Paris', 'Oslo', 'Lima'] }, days: { type: 'integer', minimum: 1, maximum: 7 } },
    required: ['city', 'days'],
    additionalProperties: false,
  },
  strict: true,
};
const results = {};

const plain = await client.responses.create({ model, input: 'Say hello.', instructions: 'Be brief.', max_output_tokens: 12 });
results.plain = { id: plain.id, status: plain.status, text: plain.output_text, usage: plain.usage, items: plain.output.map((i) => i.type) };

const fresh = await client.responses.create({ model, input: 'And again?', max_output_tokens: 4, store: false });
const followed = await client.responses.create({ model, input: 'And again?', max_output_tokens: 4, previous_response_id: plain.id });
results.previous = { fresh: fresh.usage.input_tokens, followed: followed.usage.input_tokens, previous: followed.previous_response_id, freshStore: fresh.store };

const stream = await client.responses.create({ model, input: 'Count to three.', max_output_tokens: 12, stream: true });
const types = [];
let deltas = '';
let completed = null;
for await (const event of stream) {
  types.push(event.type);
  if (event.type === 'response.output_text.delta') deltas += event.delta;
  if (event.type === 'response.completed' || event.type === 'response.incomplete') completed = event.response;
}
results.stream = { first: types[0], last: types.at(-1), deltas, final: completed.output_text ?? completed.output[0].content[0].text, sequence: types.length };

const called = await client.responses.create({ model, input: 'Weather in Oslo for two days?', tools: [weather], tool_choice: 'required', parallel_tool_calls: false, max_output_tokens: 300 });
const call = called.output.find((i) => i.type === 'function_call');
results.tool = { name: call.name, arguments: JSON.parse(call.arguments), callId: call.call_id };

const toolStream = await client.responses.create({ model, input: 'Weather in Lima?', tools: [weather], tool_choice: { type: 'function', name: 'get_weather' }, max_output_tokens: 300, stream: true });
let argumentDeltas = 0;
let streamedArguments = '';
for await (const event of toolStream) {
  if (event.type === 'response.function_call_arguments.delta') { argumentDeltas++; streamedArguments += event.delta; }
}
results.toolStream = { argumentDeltas, arguments: JSON.parse(streamedArguments) };

const answered = await client.responses.create({
  model, previous_response_id: called.id, tools: [weather], tool_choice: 'none', max_output_tokens: 6,
  input: [{ type: 'function_call_output', call_id: call.call_id, output: '{"forecast":"sunny"}' }],
});
results.loop = { status: answered.status, items: answered.output.map((i) => i.type) };

const retrieved = await client.responses.retrieve(plain.id);
const deleted = await client.responses.delete(plain.id);
let gone = null;
try { await client.responses.retrieve(plain.id); } catch (e) { gone = e.status; }
results.stored = { same: retrieved.output_text === plain.output_text, deleted: deleted?.deleted ?? true, gone };

const openai = createOpenAI({ baseURL, apiKey: process.env.SIOS_KEY, fetch: recording.fetch });
const generated = await generateText({ model: openai(model), prompt: 'Say hi.', maxOutputTokens: 8, maxRetries: 0 });
results.aiText = { finish: generated.finishReason, length: generated.text.length, responseId: generated.response?.id };

let executed = 0;
const agent = await generateText({
  model: openai(model),
  prompt: 'What is the weather in Paris for one day?',
  maxOutputTokens: 300,
  maxRetries: 0,
  toolChoice: 'required',
  prepareStep: ({ stepNumber }) => (stepNumber > 0 ? { toolChoice: 'none', maxOutputTokens: 6 } : {}),
  stopWhen: stepCountIs(2),
  tools: {
    get_weather: tool({
      description: 'The weather in a city',
      inputSchema: z.object({ city: z.enum(['Paris', 'Oslo', 'Lima']), days: z.number().int().min(1).max(7) }),
      execute: async ({ city, days }) => { executed++; return { city, days, forecast: 'sunny' }; },
    }),
  },
});
results.aiAgent = { steps: agent.steps.length, executed, firstFinish: agent.steps[0].finishReason, calls: agent.steps[0].toolCalls.map((c) => ({ name: c.toolName, input: c.input })) };

const streamed = streamText({ model: openai(model), prompt: 'Stream a word.', maxOutputTokens: 6, maxRetries: 0 });
let streamedText = '';
for await (const part of streamed.textStream) streamedText += part;
results.aiStream = { same: streamedText === (await streamed.text), finish: await streamed.finishReason };

await recording.report(results);
