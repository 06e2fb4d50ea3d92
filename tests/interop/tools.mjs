// The tools and the question of the tool-calling scripts: function tools as OpenAI defines them, which Ollama takes
// as they are (a city from an enum and a day count, so that a valid call can be checked exactly; and an addition).
export const tools = [
  {
    type: 'function',
    function: {
      name: 'get_weather',
      description: 'The weather in a city',
      parameters: {
        type: 'object',
        properties: { city: { type: 'string', enum: ['Paris', 'Oslo', 'Lima'] }, days: { type: 'integer' } },
        required: ['city', 'days'],
      },
    },
  },
  {
    type: 'function',
    function: {
      name: 'add',
      description: 'Adds two integers',
      parameters: { type: 'object', properties: { a: { type: 'integer' }, b: { type: 'integer' } }, required: ['a', 'b'] },
      strict: true,
    },
  },
];
export const question = { role: 'user', content: 'What is the weather in Paris for two days?' };
