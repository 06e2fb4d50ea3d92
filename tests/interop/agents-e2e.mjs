// Agent frameworks, unmodified, against a running SIOS gateway (SIOS_URL, SIOS_KEY, the tool-capable brain
// SIOS_BRAIN): LangChain.js `bindTools` and `withStructuredOutput({ method: "functionCalling" })`, and the Vercel AI
// SDK's `generateText` with tools and a step limit (it runs the tool and sends the result back). Every exchange is
// recorded byte for byte so the C# side can verify each receipt.
import { ChatOpenAI } from '@langchain/openai';
import { tool as langchainTool } from '@langchain/core/tools';
import { createOpenAI } from '@ai-sdk/openai';
import { generateText, tool as aiTool, stepCountIs } from 'ai';
import { z } from 'zod';
import { recorder } from './recording.mjs';

let current = '';
const recording = recorder(() => current);
const baseURL = `${process.env.SIOS_URL.replace(/\/$/, '')}/v1`;
const model = process.env.SIOS_BRAIN;
const results = {};
const weatherSchema = z.object({ city: z.enum(['Paris', 'Oslo', 'Lima']), days: z.number().int() });

current = 'langchain.bindTools';
const chat = new ChatOpenAI({
  model, apiKey: process.env.SIOS_KEY, maxRetries: 0, maxTokens: 400, temperature: 1,
  configuration: { baseURL, fetch: recording.fetch },
});
const weatherTool = langchainTool(async ({ city, days }) => `${days} days of sun in ${city}`, {
  name: 'get_weather', description: 'The weather in a city', schema: weatherSchema,
});
const bound = chat.bindTools([weatherTool], { tool_choice: 'required' });
const message = await bound.invoke('What is the weather in Paris for two days?');
results.bindTools = { calls: message.tool_calls.map((c) => ({ name: c.name, args: c.args })) };

current = 'langchain.withStructuredOutput';
const structured = chat.withStructuredOutput(weatherSchema, { method: 'functionCalling', name: 'report' });
results.structured = await structured.invoke('Report the weather in Oslo for three days.');

current = 'ai.generateText';
const openai = createOpenAI({ baseURL, apiKey: process.env.SIOS_KEY, fetch: recording.fetch });
let executed = 0;
const generated = await generateText({
  model: openai.chat(model),
  prompt: 'What is the weather in Lima for one day?',
  maxOutputTokens: 400,
  maxRetries: 0,
  toolChoice: 'required',
  prepareStep: ({ stepNumber }) => (stepNumber > 0 ? { toolChoice: 'none' } : {}),
  stopWhen: stepCountIs(2),
  tools: {
    get_weather: aiTool({
      description: 'The weather in a city',
      inputSchema: weatherSchema,
      execute: async ({ city, days }) => { executed++; return `${days} days of sun in ${city}`; },
    }),
  },
});
results.generateText = {
  steps: generated.steps.length,
  executed,
  firstFinish: generated.steps[0].finishReason,
  calls: generated.steps[0].toolCalls.map((c) => ({ name: c.toolName, input: c.input })),
  text: generated.text,
};

await recording.report(results);
