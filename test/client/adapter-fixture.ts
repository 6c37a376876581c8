// A real Writ over loopback with the demo provider connected, an agent delegated the notes tools,
// the catalog's descriptions of them, and capability sources for the framework-adapter tests.
import type { TestContext } from 'node:test';
import { WritClient, type CapabilitySource, type ToolDescription } from '../../src/client/index.ts';
import { seedOrg } from '../support/writ.ts';
import { delegate } from '../support/delegation.ts';
import { openConnectLink, startWritWithDemo } from '../support/connect.ts';
import type { DemoProvider } from '../../src/demo/provider/index.ts';

export const TOOLS = ['demo.notes.create', 'demo.notes.list'];

export interface AdapterFixture {
  demo: DemoProvider;
  /** Writ's issuer URL, the agent's credentials and its delegated access token, for code that makes its own client. */
  issuer: string;
  clientId: string;
  clientSecret: string;
  subjectToken: string;
  client: WritClient;
  /** The notes tools as `GET /v1/tools` describes them. */
  tools: ToolDescription[];
  /** The catalog's input schema of a tool. */
  schemaOf(tool: string): Record<string, unknown>;
  /** A fresh capability for exactly the tool called. */
  capability: CapabilitySource;
  /** A capability for `demo.notes.create` whatever is called: any other tool is refused for scope. */
  createOnly: CapabilitySource;
  /** The provider account's owner. */
  username: string;
}

export async function adapterFixture(t: TestContext): Promise<AdapterFixture> {
  const { writ, demo } = await startWritWithDemo();
  t.after(async () => { await writ.stop(); await demo.close(); });
  const seeded = await seedOrg(writ, { tools: TOOLS });
  const run = await delegate(writ, seeded, { authorization_details: [{ type: 'tool_access', tools: TOOLS }] });
  const created = await writ.admin('POST', `/orgs/${seeded.org.id}/connected-accounts`, { connector: 'demo', user_id: seeded.user.id });
  const page = await openConnectLink(run.browser, created.json.authorization_url, { providerUser: seeded.user.username });
  if (!/is connected/.test(page.text)) throw new Error(`connect failed: ${page.status}`);

  const client = new WritClient({ issuer: writ.issuer, clientId: seeded.agent.client_id, clientSecret: seeded.agent.client_secret });
  const subjectToken = run.tokens!.access_token;
  const listed = (await (await fetch(`${writ.issuer}/v1/tools`)).json() as { tools: ToolDescription[] }).tools;
  const tools = listed.filter((x) => TOOLS.includes(x.name));
  return {
    demo, client, tools, username: seeded.user.username,
    issuer: writ.issuer, clientId: seeded.agent.client_id, clientSecret: seeded.agent.client_secret, subjectToken,
    schemaOf: (name) => tools.find((x) => x.name === name)!.input_schema!,
    capability: (tool) => client.exchange({ subjectToken, tool }),
    createOnly: () => client.exchange({ subjectToken, tool: 'demo.notes.create' }),
  };
}
