// The OpenAI Agents SDK runs Writ tools unchanged: a scripted Model drives a Runner, the note lands
// at the demo provider, and refusals (scope, then an account revoked at the provider) come back as
// tool output the model reads, unless the caller asks for them to be thrown.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Agent, Runner, tool, Usage, type Model, type ModelRequest, type ModelResponse } from '@openai/agents';
import { openAiAgentsTools } from '../../src/client/index.ts';
import { adapterFixture } from './adapter-fixture.ts';

/** A Model that answers from a script and records every request. */
class ScriptedModel implements Model {
  readonly script: ModelResponse['output'][];
  readonly requests: ModelRequest[] = [];

  constructor(script: ModelResponse['output'][]) {
    this.script = script;
  }

  async getResponse(request: ModelRequest): Promise<ModelResponse> {
    this.requests.push(request);
    return { usage: new Usage(), output: this.script.shift() ?? say('out of script') };
  }

  // eslint-disable-next-line require-yield
  async *getStreamedResponse(): AsyncIterable<never> { throw new Error('not streamed'); }
}

const call = (name: string, args: Record<string, unknown>): ModelResponse['output'] =>
  [{ type: 'function_call', callId: `call_${name}_${Math.random()}`, name, arguments: JSON.stringify(args), status: 'completed' }];
const say = (text: string): ModelResponse['output'] =>
  [{ type: 'message', role: 'assistant', status: 'completed', content: [{ type: 'output_text', text }] }];

/** Tool outputs the model was sent, as text. */
const toolOutputsSeen = (request: ModelRequest) =>
  JSON.stringify(Array.isArray(request.input) ? request.input.filter((item) => item.type === 'function_call_result') : []);

test('OpenAI Agents SDK: a Runner runs Writ tools with the catalog schema; refusals reach the model as tool output', async (t) => {
  const f = await adapterFixture(t);
  const runner = new Runner({ tracingDisabled: true });
  const model = new ScriptedModel([
    call('demo_notes_create', { title: 'from the Agents SDK', body: 'Runner' }),
    call('demo_notes_list', {}),
    say('done'),
  ]);
  const agent = new Agent({ name: 'notes', instructions: 'keep notes', model, tools: openAiAgentsTools(f.client, f.tools, f.createOnly, { tool }) });
  const result = await runner.run(agent, 'write a note, then list notes');
  assert.equal(result.finalOutput, 'done');

  const given = model.requests[0]!.tools.filter((x) => x.type === 'function') as Array<{ name: string; parameters: unknown; strict: boolean }>;
  assert.deepEqual(given.find((x) => x.name === 'demo_notes_create')!.parameters, f.schemaOf('demo.notes.create'), 'the model sees the catalog schema');
  assert.deepEqual(given.find((x) => x.name === 'demo_notes_list')!.parameters, f.schemaOf('demo.notes.list'));
  assert.ok(given.every((x) => x.strict === false), 'not strict: Writ schemas may have optional fields, which strict mode forbids');

  assert.equal(f.demo.notes.find((n) => n.title === 'from the Agents SDK')?.owner, f.username, 'the note exists at the provider');
  assert.match(toolOutputsSeen(model.requests[1]!), /from the Agents SDK/, 'the result went back to the model');
  assert.match(toolOutputsSeen(model.requests[2]!), /insufficient_scope/, 'the refusal went back to the model, readable');

  // The user withdraws the app's access at the provider: the model gets auth_revoked and the reconnect link.
  f.demo.revokeUserGrants(f.username);
  const revoked = new ScriptedModel([call('demo_notes_create', { title: 'after revocation', body: 'x' }), say('asked the user to reconnect')]);
  const afterRevocation = new Agent({ name: 'notes', instructions: 'keep notes', model: revoked, tools: openAiAgentsTools(f.client, f.tools, f.capability, { tool }) });
  assert.equal((await runner.run(afterRevocation, 'write a note')).finalOutput, 'asked the user to reconnect');
  const seen = toolOutputsSeen(revoked.requests[1]!);
  assert.match(seen, /auth_revoked/);
  assert.match(seen, /reconnect_url/);

  // Asked to, the refusal ends the run instead.
  const strict = new Agent({ name: 'notes', instructions: 'keep notes', model: new ScriptedModel([call('demo_notes_create', { title: 'x', body: 'y' })]),
    tools: openAiAgentsTools(f.client, f.tools, f.capability, { tool, throwOnError: true }) });
  await assert.rejects(runner.run(strict, 'write a note'), (e: unknown) => /reconnect it|auth_revoked/.test(String((e as Error).message) + String((e as { cause?: Error }).cause?.message)));
});
