// LangChain.js and LangGraph run Writ tools unchanged: a scripted chat model drives LangGraph's
// prebuilt ReAct agent, whose ToolNode calls each tool with the model's whole ToolCall; the note
// lands at the demo provider and a refused call comes back as a ToolMessage the model reads.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { tool, type StructuredTool } from '@langchain/core/tools';
import { BaseChatModel } from '@langchain/core/language_models/chat_models';
import { AIMessage, ToolMessage, type BaseMessage } from '@langchain/core/messages';
import type { ChatResult } from '@langchain/core/outputs';
import { convertToOpenAITool } from '@langchain/core/utils/function_calling';
import { createReactAgent } from '@langchain/langgraph/prebuilt';
import { langChainTools } from '../../src/client/index.ts';
import { adapterFixture } from './adapter-fixture.ts';

/** A chat model that answers from a script, and records the tools bound to it and the messages it was sent. */
class ScriptedChatModel extends BaseChatModel {
  readonly script: AIMessage[];
  readonly seen: BaseMessage[][] = [];
  boundTools: Array<{ function: { name: string; parameters?: unknown } }> = [];

  constructor(script: AIMessage[]) {
    super({});
    this.script = script;
  }

  _llmType() { return 'scripted'; }

  override bindTools(tools: Parameters<typeof convertToOpenAITool>[0][]): any {
    this.boundTools = tools.map((x) => convertToOpenAITool(x) as never);
    return this;
  }

  async _generate(messages: BaseMessage[]): Promise<ChatResult> {
    this.seen.push(messages);
    const message = this.script.shift() ?? new AIMessage('out of script');
    return { generations: [{ message, text: typeof message.content === 'string' ? message.content : '' }] };
  }
}

const call = (name: string, args: Record<string, unknown>) =>
  new AIMessage({ content: '', tool_calls: [{ id: `call_${name}`, name, args, type: 'tool_call' }] });

test('LangChain: a LangGraph agent runs Writ tools from a ToolCall; a refusal reaches the model as a ToolMessage', async (t) => {
  const f = await adapterFixture(t);
  const tools: StructuredTool[] = langChainTools(f.client, f.tools, f.createOnly, { tool });

  // What ToolNode does with each call: a ToolCall in, a ToolMessage for that call out.
  const direct = await tools.find((x) => x.name === 'demo_notes_create')!.invoke({ id: 'call_1', name: 'demo_notes_create', args: { title: 'direct', body: 'b' }, type: 'tool_call' });
  assert.ok(ToolMessage.isInstance(direct));
  assert.equal(direct.tool_call_id, 'call_1');
  assert.match(String(direct.content), /"title":"direct"/);

  const model = new ScriptedChatModel([
    call('demo_notes_create', { title: 'from LangGraph', body: 'ToolNode' }),
    call('demo_notes_list', {}),
    new AIMessage('done'),
  ]);
  const agent = createReactAgent({ llm: model, tools });
  const state = await agent.invoke({ messages: [{ role: 'user', content: 'write a note, then list notes' }] }, { recursionLimit: 10 });
  assert.equal(state.messages.at(-1)!.content, 'done');

  assert.deepEqual(model.boundTools.find((x) => x.function.name === 'demo_notes_create')!.function.parameters, f.schemaOf('demo.notes.create'), 'the model sees the catalog schema');
  assert.deepEqual(model.boundTools.find((x) => x.function.name === 'demo_notes_list')!.function.parameters, f.schemaOf('demo.notes.list'));

  assert.equal(f.demo.notes.find((n) => n.title === 'from LangGraph')?.owner, f.username, 'the note exists at the provider');
  const toolText = (turn: number) => model.seen[turn]!.filter((m) => ToolMessage.isInstance(m)).map((m) => String(m.content)).join('\n');
  assert.match(toolText(1), /from LangGraph/, 'the result went back to the model');
  assert.match(toolText(2), /insufficient_scope/, 'the refusal went back to the model, readable');
});
