import { test } from 'node:test';
import assert from 'node:assert/strict';
import { finalAnswer, parseAction, parseToolArguments, reactPrompt, runReact, toolDescription, withReactPrompt, type ReactOptions } from '../../../lib/infer/react.js';
import { calculator } from '../../../lib/infer/tools/calculator.js';
import { pythonTool } from '../../../lib/infer/tools/python.js';
import type { Tool } from '../../../lib/infer/tools/types.js';
import { encodeChat } from '../../../lib/tokenizer/chatml.js';
import { IM_END } from '../../../lib/tokenizer/special.js';
import { Tokenizer } from '../../../lib/tokenizer/tokenizer.js';
import { loadVocabulary } from '../../../lib/tokenizer/vocabulary.js';
import { fakeEngine } from './fake-engine.js';

const tokenizer = new Tokenizer(loadVocabulary());
const imEnd = tokenizer.vocab.specials[IM_END]!;
const SAMPLING = { maxNew: 200, temperature: 0, topK: 0, topP: 1, repetitionPenalty: 1, stopTokens: [imEnd], seed: 0 };

/** A model that writes outputs[i] on its i-th generation (the loop gives generation i seed i), then <|im_end|>. */
function scriptedModel(outputs: string[], contextLength = 4096) {
  return fakeEngine({ contextLength, maxBatch: 1, continuation: (_prompt, seed) => [...tokenizer.encodeOrdinary(outputs[seed] ?? 'Final Answer: out of script'), imEnd] });
}

function reactOptions(engine: ReactOptions['engine'], tools: Tool[], o: Partial<ReactOptions> = {}): ReactOptions {
  const prompt = encodeChat(tokenizer, withReactPrompt([{ role: 'user', content: 'What is 17 times 23?' }], tools), { addGenerationPrompt: true }).ids;
  return { engine, tokenizer, tools, prompt, sampling: SAMPLING, maxSteps: 4, ...o };
}

const decode = (ids: ArrayLike<number>) => new TextDecoder().decode(tokenizer.decodeBytes(ids));

test('reactPrompt: Qwen\'s ReAct layout, each tool as TOOL_DESC with its JSON schema', () => {
  const prompt = reactPrompt('What is 2+2?', [calculator]);
  assert.ok(prompt.startsWith('Answer the following questions as best you can. You have access to the following tools:\n\ncalculator: Call this tool to interact with the calculator API. What is the calculator API useful for? Evaluates'));
  assert.ok(prompt.includes(`Parameters: ${JSON.stringify(calculator.parameters)} Format the arguments as a JSON object.\n\nUse the following format:\n\nQuestion: the input question you must answer\nThought:`));
  assert.ok(prompt.includes('Action: the action to take, should be one of [calculator]\nAction Input: the input to the action\nObservation: the result of the action\n'));
  assert.ok(prompt.endsWith('Thought: I now know the final answer\nFinal Answer: the final answer to the original input question\n\nBegin!\n\nQuestion: What is 2+2?'));
  assert.equal(toolDescription(calculator).split('calculator API').length, 3);
});

test('withReactPrompt rewrites only the last user turn', () => {
  const messages = withReactPrompt([
    { role: 'system', content: 's' },
    { role: 'user', content: 'first' },
    { role: 'assistant', content: 'a' },
    { role: 'user', content: 'second' },
  ], [calculator]);
  assert.deepEqual(messages.slice(0, 3).map((m) => m.content), ['s', 'first', 'a']);
  assert.ok(messages[3]!.content.endsWith('Question: second'));
});

test('parseAction: thought, tool name and a multi-line input; none without an Action Input', () => {
  assert.deepEqual(parseAction('Thought: I should add.\nAction: calculator\nAction Input: {"expression": "1+1"}\n'), { thought: 'I should add.', action: 'calculator', input: '{"expression": "1+1"}' });
  assert.deepEqual(parseAction(' run it\nAction: python\nAction Input: print(1)\nprint(2)\n'), { thought: 'run it', action: 'python', input: 'print(1)\nprint(2)' });
  assert.equal(parseAction('Thought: hmm\nAction: calculator\n'), undefined);
  assert.equal(parseAction('Final Answer: 4'), undefined);
  assert.equal(finalAnswer('Thought: done\nFinal Answer: 391\n'), '391');
});

test('parseToolArguments: a JSON object, bare text for a one-string tool, reasons otherwise', () => {
  assert.deepEqual(parseToolArguments('{"expression": "2*3"}', calculator), { expression: '2*3' });
  assert.deepEqual(parseToolArguments('2*3', calculator), { expression: '2*3' });
  assert.deepEqual(parseToolArguments('```py\nprint(1)\n```', calculator), { expression: 'print(1)' });
  assert.equal(parseToolArguments('{"x": 1}', calculator), 'Action Input lacks "expression"');
  const two: Tool = { ...calculator, parameters: { type: 'object', properties: { a: { type: 'number' }, b: { type: 'number' } } } };
  assert.match(parseToolArguments('1, 2', two) as string, /^Action Input is not a JSON object/);
});

test('runReact: a calculator conversation, the observation written into the assistant turn', async () => {
  const engine = scriptedModel([
    'Thought: I need to multiply.\nAction: calculator\nAction Input: {"expression": "17 * 23"}\nObservation: 999 (the model would invent this)',
    ' 17 times 23 is 391.\nFinal Answer: 391',
  ]);
  const streamed: string[] = [];
  const result = await runReact(reactOptions(engine, [calculator], { onText: (t) => streamed.push(t) }));
  assert.equal(result.finish, 'answer');
  assert.equal(result.answer, '391');
  assert.deepEqual(result.steps, [{ thought: 'I need to multiply.', action: 'calculator', input: '{"expression": "17 * 23"}', observation: '391' }]);
  assert.equal(result.text, 'Thought: I need to multiply.\nAction: calculator\nAction Input: {"expression": "17 * 23"}\nObservation: 391\nThought: 17 times 23 is 391.\nFinal Answer: 391');
  assert.equal(streamed.join(''), result.text);
  // The second generation continues the same assistant turn, after the observation.
  assert.equal(engine.requests.length, 2);
  assert.ok(decode(engine.requests[1]!.prompt).endsWith('<|im_start|>assistant\n' + result.text.slice(0, result.text.indexOf('Thought: 17'))+ 'Thought:'));
  assert.equal(result.promptTokens, engine.requests[0]!.prompt.length);
  assert.ok(result.completionTokens > 20);
});

test('runReact: a python conversation, the code run in the sandbox and its output observed', async () => {
  const engine = scriptedModel([
    'Thought: I will compute the sum of squares with Python.\nAction: python\nAction Input: {"code": "print(sum(i * i for i in range(1, 11)))"}\n',
    ' The sum of the squares of 1 to 10 is 385.\nFinal Answer: 385',
  ]);
  const result = await runReact(reactOptions(engine, [calculator, pythonTool()]));
  assert.equal(result.finish, 'answer');
  assert.equal(result.answer, '385');
  assert.deepEqual(result.steps.map((s) => [s.action, s.observation]), [['python', '385']]);
  assert.match(decode(engine.requests[0]!.prompt), /python: Call this tool to interact with the python API\. What is the python API useful for\? Runs a Python 3 program/);
  assert.match(decode(engine.requests[1]!.prompt), /Action Input: \{"code": "print\(sum\(i \* i for i in range\(1, 11\)\)\)"\}\nObservation: 385\nThought:$/);
});

test('runReact: an unknown tool, a malformed action and a failing call become observations the model reads', async () => {
  const failing: Tool = { name: 'lookup', description: 'fails', parameters: { type: 'object', properties: { q: { type: 'string' }, limit: { type: 'number' } } }, call: async () => { throw new Error('index offline'); } };
  const engine = scriptedModel([
    'Thought: search.\nAction: search\nAction Input: {"q": "x"}\n',
    ' oops.\nAction: calculator\nObservation:',
    ' try lookup.\nAction: lookup\nAction Input: {"q": "x"}\n',
    ' bad json.\nAction: lookup\nAction Input: {"q": x}\n',
    ' give up.\nFinal Answer: unknown',
  ]);
  const result = await runReact(reactOptions(engine, [calculator, failing], { maxSteps: 5 }));
  assert.equal(result.finish, 'answer');
  assert.equal(result.answer, 'unknown');
  assert.deepEqual(result.steps.map((s) => s.observation), [
    'Error: there is no tool "search"; the tools are calculator, lookup',
    'Error: index offline',
    'Error: Action Input is not a JSON object: "{\\"q\\": x}"',
  ]);
  assert.match(result.text, /oops\.\nAction: calculator\nObservation: Error: write "Action: <one of calculator, lookup>" and then "Action Input: <JSON object>" before "Observation:"\nThought: try lookup/);
});

test('runReact: the step cap ends a model that never answers', async () => {
  const engine = scriptedModel(Array.from({ length: 10 }, () => 'Thought: again\nAction: calculator\nAction Input: 1+1\n'));
  const result = await runReact(reactOptions(engine, [calculator], { maxSteps: 3 }));
  assert.equal(result.finish, 'max_steps');
  assert.equal(result.answer, '');
  assert.equal(result.steps.length, 3);
  assert.equal(engine.requests.length, 4);
});

test('runReact: a direct answer without the format, the context running out, and an abort', async () => {
  assert.deepEqual(await runReact(reactOptions(scriptedModel(['It is 391.']), [calculator])).then((r) => [r.finish, r.answer]), ['answer', 'It is 391.']);
  // Room for the first call and its <|im_end|>, none left once the observation is written.
  const first = 'Thought: x\nAction: calculator\nAction Input: 1+1\n';
  const room = reactOptions(scriptedModel([]), [calculator]).prompt.length + tokenizer.encodeOrdinary(first).length + 1;
  const short = scriptedModel([first, 'Final Answer: 2'], room);
  const long = await runReact(reactOptions(short, [calculator]));
  assert.deepEqual([long.finish, long.steps.length, short.requests.length], ['length', 1, 1]);
  const cut = await runReact(reactOptions(scriptedModel([first], room - 8), [calculator]));
  assert.deepEqual([cut.finish, cut.steps.length], ['length', 0]);
  const controller = new AbortController();
  const slow: Tool = { ...calculator, name: 'slow', call: async () => (controller.abort(), 'late') };
  const aborted = await runReact(reactOptions(scriptedModel(['Action: slow\nAction Input: 1\n', 'Final Answer: no']), [slow], { signal: controller.signal }));
  assert.equal(aborted.finish, 'aborted');
  assert.equal(aborted.steps.length, 0);
});
