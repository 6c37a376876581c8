// The Vercel AI SDK runs Writ tools unchanged: a scripted model calls demo.notes.create through
// `generateText`, the note lands at the demo provider, and a refused call comes back as a tool
// result the model reads.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { generateText, isStepCount, jsonSchema } from 'ai';
import { MockLanguageModelV3 } from 'ai/test';
import type { LanguageModelV3CallOptions, LanguageModelV3GenerateResult } from '@ai-sdk/provider';
import { aiSdkTools, ExecutorError } from '../../src/client/index.ts';
import { adapterFixture } from './adapter-fixture.ts';

const usage = { inputTokens: { total: 1, noCache: 1, cacheRead: 0, cacheWrite: 0 }, outputTokens: { total: 1, text: 1, reasoning: 0 } };
const callTool = (toolName: string, input: unknown): LanguageModelV3GenerateResult => ({
  content: [{ type: 'tool-call', toolCallId: `call_${toolName}`, toolName, input: JSON.stringify(input) }],
  finishReason: { unified: 'tool-calls', raw: 'tool_calls' }, usage, warnings: [],
});
const say = (text: string): LanguageModelV3GenerateResult => ({ content: [{ type: 'text', text }], finishReason: { unified: 'stop', raw: 'stop' }, usage, warnings: [] });

/** What the model was sent back as tool results, as text. */
const toolResultsSeen = (call: LanguageModelV3CallOptions) => JSON.stringify(call.prompt.filter((m) => m.role === 'tool'));

test('AI SDK: generateText runs a Writ tool with the catalog schema; a refusal reaches the model as a tool result', async (t) => {
  const f = await adapterFixture(t);
  const model = new MockLanguageModelV3({ doGenerate: [
    callTool('demo_notes_create', { title: 'from the AI SDK', body: 'generateText' }),
    callTool('demo_notes_list', {}),
    say('done'),
  ] });
  const tools = aiSdkTools(f.client, f.tools, f.createOnly, { jsonSchema });
  const result = await generateText({ model, tools, prompt: 'write a note, then list notes', stopWhen: isStepCount(3) });

  assert.equal(result.text, 'done');
  const given = model.doGenerateCalls[0]!.tools!.filter((x) => x.type === 'function');
  assert.deepEqual(given.find((x) => x.name === 'demo_notes_create')!.inputSchema, f.schemaOf('demo.notes.create'), 'the model sees the catalog schema');
  assert.deepEqual(given.find((x) => x.name === 'demo_notes_list')!.inputSchema, f.schemaOf('demo.notes.list'));

  const note = f.demo.notes.find((n) => n.title === 'from the AI SDK');
  assert.equal(note?.owner, f.username, 'the note exists at the provider');
  assert.match(toolResultsSeen(model.doGenerateCalls[1]!), /from the AI SDK/, 'the result went back to the model');
  assert.match(toolResultsSeen(model.doGenerateCalls[2]!), /insufficient_scope/, 'the refusal went back to the model, readable');

  // Asked to, the refusal is thrown instead.
  const strict = aiSdkTools(f.client, f.tools, f.createOnly, { jsonSchema, throwOnError: true });
  await assert.rejects(strict.demo_notes_list!.execute({}), (e: unknown) => e instanceof ExecutorError && e.code === 'insufficient_scope');
});
