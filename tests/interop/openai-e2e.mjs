// The official npm `openai` client, unmodified, against a running SIOS gateway (SIOS_URL, SIOS_KEY). A recording
// fetch keeps the exact request body and every response byte (including the `: sios` SSE comment the client itself
// skips), so the C# side can verify each answer's receipt and match its commitments to what crossed the wire.
import OpenAI from 'openai';
import { recorder } from './recording.mjs';

const recording = recorder();

const client = new OpenAI({
  baseURL: `${process.env.SIOS_URL.replace(/\/$/, '')}/v1`,
  apiKey: process.env.SIOS_KEY,
  fetch: recording.fetch,
  maxRetries: 0,
});

const results = {};
const chat = await client.chat.completions.create({
  model: 'clinical',
  messages: [{ role: 'user', content: 'Hello from node' }],
  max_tokens: 8,
});
results.chat = { finish: chat.choices[0].finish_reason, completion_tokens: chat.usage.completion_tokens };

const stream = await client.chat.completions.create({
  model: 'contracts',
  messages: [{ role: 'user', content: 'Stream please' }],
  max_tokens: 6,
  stream: true,
  stream_options: { include_usage: true },
});
let streamed = '';
let usage = null;
for await (const chunk of stream) {
  streamed += chunk.choices[0]?.delta?.content ?? '';
  usage = chunk.usage ?? usage;
}
results.stream = { text_length: streamed.length, completion_tokens: usage?.completion_tokens ?? null };

const models = [];
for await (const model of client.models.list()) {
  models.push(model.id);
}
results.models = models.sort();

const embedding = await client.embeddings.create({ model: 'ledger', input: 'the record' });
results.embedding = { length: embedding.data[0].embedding.length };

const json = await client.chat.completions.create({
  model: 'demo',
  messages: [{ role: 'user', content: 'JSON please' }],
  max_tokens: 48,
  response_format: { type: 'json_object' },
});
results.json = { content: json.choices[0].message.content, finish: json.choices[0].finish_reason };

await recording.report(results);
