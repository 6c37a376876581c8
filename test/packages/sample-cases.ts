// What each marked code block of the libraries' pages is run inside, and what is checked after:
// the verifier's blocks against a stand-in issuer serving keys this test holds (so it can mint
// the gmail capabilities the pages speak of, DPoP-bound ones included), the SDK's blocks against
// a running Writ whose agent is delegated the demo notes tools and whose user connected the demo
// notes provider.
import assert from 'node:assert/strict';
import type { TestContext } from 'node:test';
import { randomUUID } from 'node:crypto';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { generateJwtKey, mintJwtCapability, type CapabilityClaims } from '../../src/capability/index.ts';
import { createDpopKey, dpopProof } from '../../src/client/dpop.ts';
import { jwkThumbprint } from '../../src/verifier/index.ts';
import { startIssuer } from '../verifier/issuer.ts';
import { adapterFixture } from '../client/adapter-fixture.ts';
import type { Project } from './install.ts';
import { resultOf, runSample, samplesOf, typeErrorsInBlocks, SAMPLE_PAGES, type Sample, type SampleProgram } from './samples.ts';

const AUDIENCE = 'https://mail.example/api';
const METADATA = 'https://mail.example/.well-known/oauth-protected-resource';

type Case = (sample: Sample) => Promise<void>;

export async function runPageSamples(t: TestContext, project: Project): Promise<void> {
  const samples = SAMPLE_PAGES.flatMap(samplesOf);
  const jwtKey = generateJwtKey('k1');
  const issuer = await startIssuer({ jwt: [jwtKey], biscuit: [] });
  t.after(() => issuer.close());
  const fixture = await adapterFixture(t);

  const now = () => Math.floor(Date.now() / 1000);
  const mint = (over: Partial<CapabilityClaims> = {}) => mintJwtCapability({
    iss: issuer.issuer, aud: AUDIENCE, sub: 'usr_ann', principal: 'user', org_id: 'org_x', client_id: 'agt_mailer',
    authorization_details: [{ type: 'tool_access', tools: ['gmail.messages.send'], resources: ['gmail:mailbox:ann'], constraints: { to: { ends_with: '@customer.com' } } }],
    scope: 'tool:gmail.messages.send', auth_event_id: 'grt_1', jti: `cap_${randomUUID()}`, iat: now(), exp: now() + 300, ...over,
  }, jwtKey);
  const atIssuer = { "'https://writ.example'": JSON.stringify(issuer.issuer) };
  const verifierPrelude = `import { createVerifier as makeVerifier } from '@writ/verifier';
const verifier = makeVerifier({ issuer: ${JSON.stringify(issuer.issuer)}, audience: ${JSON.stringify(AUDIENCE)} });`;
  const serveApp = `const server = app.listen(0, '127.0.0.1');
await new Promise((resolve) => server.once('listening', resolve));
console.log('SAMPLE_URL http://127.0.0.1:' + server.address().port);
process.stdin.resume();
process.stdin.on('end', () => { verifier.close(); server.closeAllConnections(); server.close(); });`;

  // The SDK's blocks: a client of the running Writ, and scripted models that call demo.notes.create once.
  const clientEnv = { WRIT_CLIENT_SECRET: fixture.clientSecret };
  const atWrit = { "'https://writ.example'": JSON.stringify(fixture.issuer), "'agt_…'": JSON.stringify(fixture.clientId) };
  const adapters = samples.find((s) => s.name === 'adapters');
  assert.ok(adapters, 'docs/sdk.md has the adapters block the framework blocks build on');
  const adaptersPrelude = (models: string) => `import { WritClient as PreludeClient } from '@writ/client';
${models}
const issuer = ${JSON.stringify(fixture.issuer)};
const subjectToken = ${JSON.stringify(fixture.subjectToken)};
const writ = new PreludeClient({ issuer, clientId: ${JSON.stringify(fixture.clientId)}, clientSecret: process.env.WRIT_CLIENT_SECRET });
${adapters.code}`;
  const noteTitled = (title: string) => fixture.demo.notes.find((n) => n.title === title);

  const cases: Record<string, Case> = {
    async verify(sample) {
      // The README's block passes no proof, the page's passes one for a DPoP-bound capability.
      const key = await createDpopKey();
      const bound = sample.code.includes('dpop:');
      const token = mint(bound ? { cnf: { jkt: jwkThumbprint(key.publicJwk as Record<string, unknown>) } } : {});
      const url = 'https://mail.example/api/send';
      const program: SampleProgram = {
        prelude: `const token = process.env.SAMPLE_TOKEN;\nconst proof = process.env.SAMPLE_PROOF;\nconst url = process.env.SAMPLE_URL;`,
        postlude: `if (typeof capability !== 'undefined') console.log('SAMPLE_RESULT ' + JSON.stringify(capability));\nverifier.close();`,
        replace: atIssuer,
        env: { SAMPLE_TOKEN: token, SAMPLE_PROOF: await dpopProof(key, { htm: 'POST', htu: url, accessToken: token }), SAMPLE_URL: url },
      };
      const run = await runSample(project, sample, program);
      assert.equal(run.code, 0, run.stderr);
      if (/acting for/.test(sample.code)) assert.match(run.stdout, /acting for usr_ann of org_x/);
      else assert.deepEqual((({ sub, org_id, format, actor_chain }) => ({ sub, org_id, format, actor_chain }))(resultOf(run) as Record<string, unknown>), { sub: 'usr_ann', org_id: 'org_x', format: 'jwt', actor_chain: ['agt_mailer'] });
    },

    async 'express-route'(sample) {
      const program = { prelude: `import express from 'express';\n${verifierPrelude}\nconst app = express();`, postlude: serveApp, replace: {} };
      await runSample(project, sample, program, async (url) => {
        const send = (mailbox: string, to: string, authorization?: string) => fetch(`${url}/mailboxes/${mailbox}/send`, {
          method: 'POST', headers: { 'content-type': 'application/json', ...(authorization && { authorization }) }, body: JSON.stringify({ input: { to } }),
        });
        const token = `Bearer ${mint()}`;
        const ok = await send('ann', 'bob@customer.com', token);
        assert.equal(ok.status, 200, await ok.clone().text());
        assert.deepEqual(await ok.json(), { on_behalf_of: 'usr_ann' });
        assert.equal((await send('bob', 'bob@customer.com', token)).status, 403, 'another mailbox');
        const constraint = await send('ann', 'eve@evil.example', token);
        assert.equal(constraint.status, 403);
        assert.equal(((await constraint.json()) as { error: string }).error, 'constraint_failed');
        const missing = await send('ann', 'bob@customer.com');
        assert.equal(missing.status, 401);
        assert.ok((missing.headers.get('www-authenticate') ?? '').includes(`resource_metadata="${METADATA}"`));
      });
    },

    async 'mcp-route'(sample) {
      const prelude = `import express from 'express';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
${verifierPrelude}
const app = express();
app.use(express.json());
async function mcpHandler(req, res) {
  const mcp = new McpServer({ name: 'notes', version: '1.0.0' });
  mcp.registerTool('create_note', { description: 'Create a note' }, async (extra) => ({ content: [{ type: 'text', text: extra.authInfo.extra.sub }] }));
  const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined });
  res.on('close', () => { void transport.close(); void mcp.close(); });
  await mcp.connect(transport);
  await transport.handleRequest(req, res, req.body);
}`;
      await runSample(project, sample, { prelude, postlude: serveApp }, async (url) => {
        const notes = mint({ authorization_details: [{ type: 'tool_access', tools: ['notes.create'] }], scope: 'tool:notes.create' });
        const client = new Client({ name: 'agent', version: '1.0.0' });
        await client.connect(new StreamableHTTPClientTransport(new URL(`${url}/mcp`), { requestInit: { headers: { authorization: `Bearer ${notes}` } } }));
        try {
          const result = await client.callTool({ name: 'create_note', arguments: {} });
          assert.equal((result.content as Array<{ text: string }>)[0]!.text, 'usr_ann');
        } finally {
          await client.close();
        }
        const list = (authorization?: string) => fetch(`${url}/mcp`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', ...(authorization && { authorization }) },
          body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list' }),
        });
        const missing = await list();
        assert.equal(missing.status, 401);
        assert.ok((missing.headers.get('www-authenticate') ?? '').includes('resource_metadata="https://notes.example/.well-known/oauth-protected-resource/mcp"'));
        const other = await list(`Bearer ${mint()}`);
        assert.equal(other.status, 403);
        assert.match(other.headers.get('www-authenticate') ?? '', /error="insufficient_scope"/);
      });
    },

    async client(sample) {
      const prelude = `const delegatedAccessToken = ${JSON.stringify(fixture.subjectToken)};\nconst showLink = (link) => console.log('LINK ' + link);`;
      const run = await runSample(project, sample, { prelude, postlude: '', replace: atWrit, env: clientEnv });
      assert.equal(run.code, 0, run.stderr);
      assert.match(run.stdout, /^created /m);
      const title = sample.code.includes("title: 'Hello'") ? 'Hello' : undefined;
      assert.ok(title && noteTitled(title)?.owner === fixture.username, 'the note exists at the provider, owned by the delegating user');
    },

    async adapters() {
      // Run as the prelude of each framework's block below.
    },

    async 'ai-sdk'(sample) {
      const models = `import { MockLanguageModelV3 } from 'ai/test';
const usage = { inputTokens: { total: 1, noCache: 1, cacheRead: 0, cacheWrite: 0 }, outputTokens: { total: 1, text: 1, reasoning: 0 } };
const model = new MockLanguageModelV3({ doGenerate: [
  { content: [{ type: 'tool-call', toolCallId: 'call_1', toolName: 'demo_notes_create', input: JSON.stringify({ title: 'from the AI SDK sample', body: 'b' }) }], finishReason: { unified: 'tool-calls', raw: 'tool_calls' }, usage, warnings: [] },
  { content: [{ type: 'text', text: 'done' }], finishReason: { unified: 'stop', raw: 'stop' }, usage, warnings: [] },
] });`;
      const postlude = `console.log('SAMPLE_RESULT ' + JSON.stringify({
  text: result.text,
  schema: model.doGenerateCalls[0].tools.find((x) => x.name === 'demo_notes_create').inputSchema,
  toolResults: JSON.stringify(model.doGenerateCalls[1].prompt.filter((m) => m.role === 'tool')),
}));`;
      const run = await runSample(project, sample, { prelude: adaptersPrelude(models), postlude, env: clientEnv });
      assert.equal(run.code, 0, run.stderr);
      const seen = resultOf(run) as { text: string; schema: unknown; toolResults: string };
      assert.equal(seen.text, 'done');
      assert.deepEqual(seen.schema, fixture.schemaOf('demo.notes.create'), 'the model was given the tool\'s input schema');
      assert.match(seen.toolResults, /from the AI SDK sample/, 'the result went back to the model');
      assert.equal(noteTitled('from the AI SDK sample')?.owner, fixture.username);
    },

    async langchain(sample) {
      const models = `import { BaseChatModel } from '@langchain/core/language_models/chat_models';
import { AIMessage } from '@langchain/core/messages';
import { convertToOpenAITool } from '@langchain/core/utils/function_calling';
class ScriptedChatModel extends BaseChatModel {
  script = [
    new AIMessage({ content: '', tool_calls: [{ id: 'call_1', name: 'demo_notes_create', args: { title: 'from the LangChain sample', body: 'b' }, type: 'tool_call' }] }),
    new AIMessage('done'),
  ];
  seen = [];
  bound = [];
  _llmType() { return 'scripted'; }
  bindTools(tools) { this.bound = tools.map((x) => convertToOpenAITool(x)); return this; }
  async _generate(messages) {
    this.seen.push(messages);
    const message = this.script.shift() ?? new AIMessage('out of script');
    return { generations: [{ message, text: typeof message.content === 'string' ? message.content : '' }] };
  }
}
const llm = new ScriptedChatModel({});`;
      const postlude = `console.log('SAMPLE_RESULT ' + JSON.stringify({
  schema: llm.bound.find((x) => x.function.name === 'demo_notes_create').function.parameters,
  toolMessages: JSON.stringify(llm.seen[1].filter((m) => m.getType() === 'tool').map((m) => m.content)),
}));`;
      const run = await runSample(project, sample, { prelude: adaptersPrelude(models), postlude, env: clientEnv });
      assert.equal(run.code, 0, run.stderr);
      const seen = resultOf(run) as { schema: Record<string, unknown>; toolMessages: string };
      const { $schema: _, ...schema } = seen.schema;
      assert.deepEqual(schema, fixture.schemaOf('demo.notes.create'), 'the model was given the tool\'s input schema');
      assert.match(seen.toolMessages, /from the LangChain sample/, 'a ToolMessage with the result went back to the model');
      assert.equal(noteTitled('from the LangChain sample')?.owner, fixture.username);
    },

    async 'openai-agents'(sample) {
      const models = `import { setDefaultModelProvider, setTracingDisabled, Usage } from '@openai/agents';
setTracingDisabled(true);
const requests = [];
const script = [
  [{ type: 'function_call', callId: 'call_1', name: 'demo_notes_create', arguments: JSON.stringify({ title: 'from the Agents SDK sample', body: 'b' }), status: 'completed' }],
  [{ type: 'message', role: 'assistant', status: 'completed', content: [{ type: 'output_text', text: 'done' }] }],
];
const scripted = {
  async getResponse(request) { requests.push(request); return { usage: new Usage(), output: script.shift() ?? [] }; },
  async *getStreamedResponse() { throw new Error('not streamed'); },
};
setDefaultModelProvider({ getModel: async () => scripted });`;
      const postlude = `console.log('SAMPLE_RESULT ' + JSON.stringify({
  schema: requests[0].tools.find((x) => x.name === 'demo_notes_create').parameters,
  outputs: JSON.stringify(requests[1].input.filter((item) => item.type === 'function_call_result')),
}));`;
      const run = await runSample(project, sample, { prelude: adaptersPrelude(models), postlude, env: clientEnv });
      assert.equal(run.code, 0, run.stderr);
      const seen = resultOf(run) as { schema: unknown; outputs: string };
      assert.deepEqual(seen.schema, fixture.schemaOf('demo.notes.create'), 'the model was given the tool\'s input schema');
      assert.match(seen.outputs, /from the Agents SDK sample/, 'the tool output went back to the model');
      assert.equal(noteTitled('from the Agents SDK sample')?.owner, fixture.username);
    },
  };

  assert.deepEqual([...new Set(samples.map((s) => s.name))].filter((name) => !cases[name]), [], 'blocks whose marker names no case');
  for (const sample of samples) {
    await t.test(`${sample.page}:${sample.line} (${sample.kind} ${sample.name}) runs against the installed package`, () => cases[sample.name]!(sample));
  }
  await t.test('each block type-checks against the declarations the packages installed', async () => {
    assert.deepEqual(await typeErrorsInBlocks(project), []);
  });
}
