// Gmail, Google Calendar and HubSpot, executed: every tool of each runs once against a local
// stand-in speaking the provider's dialect, through the shipped definitions (only the base URLs
// change), and Gmail's structured send holds under the shipped email policy for every recipient.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadShippedDefinitions } from '../../src/connectors/catalog.ts';
import { seedOrg, type TestWrit } from '../support/writ.ts';
import { delegate } from '../support/delegation.ts';
import { exchange, details, ACCESS_TOKEN, BISCUIT, JWT } from '../support/exchange.ts';
import { connectAccount, startWritWithProviders } from '../support/providers/index.ts';

const POLICIES = join(import.meta.dirname, '../../policies');
const CONNECTORS = ['gmail', 'google_calendar', 'hubspot'];
const TOOLS = loadShippedDefinitions().filter((d) => CONNECTORS.includes(d.name)).flatMap((d) => Object.keys(d.tools).map((t) => `${d.name}.${t}`));

async function execute(writ: TestWrit, tool: string, capability: string, input: unknown) {
  const res = await fetch(`${writ.issuer}/v1/tools/${tool}/execute`, {
    method: 'POST', headers: { authorization: `Bearer ${capability}`, 'content-type': 'application/json' }, body: JSON.stringify({ input }),
  });
  return { status: res.status, json: (await res.json()) as any };
}

test('every Gmail, Google Calendar and HubSpot tool runs against its stand-in, and a structured send reaches only the recipients the policy allows', async (t) => {
  // The shipped policy: the default file and the email example (mail only to customer.com).
  const policies = mkdtempSync(join(tmpdir(), 'writ-google-'));
  t.after(() => rmSync(policies, { recursive: true, force: true }));
  copyFileSync(join(POLICIES, 'default.yaml'), join(policies, 'default.yaml'));
  copyFileSync(join(POLICIES, 'examples/email-customer-domain.yaml'), join(policies, 'email-customer-domain.yaml'));
  const { writ, google, hubspot, close } = await startWritWithProviders({ google: true, hubspot: true, env: { WRIT_POLICIES: policies } });
  t.after(close);
  const seeded = await seedOrg(writ, { tools: TOOLS });
  const org_id = seeded.org.id;
  const run = await delegate(writ, seeded, { authorization_details: [{ type: 'tool_access', tools: TOOLS }] });
  for (const connector of CONNECTORS) {
    await connectAccount(writ, run.browser, { org_id, connector, user_id: seeded.user.id, providerUser: 'john@xcorp.example' });
  }
  const capability = async (tool: string, format = JWT) => {
    const res = await exchange(writ, seeded.agent, { subject_token: run.tokens!.access_token, subject_token_type: ACCESS_TOKEN, requested_token_type: format, authorization_details: details([tool]) });
    assert.equal(res.status, 200, JSON.stringify(res.json));
    return res.json as { access_token: string; authorization_details: any[] };
  };
  const ran = new Set<string>();
  const call = async (tool: string, input: unknown) => {
    const res = await execute(writ, tool, (await capability(tool)).access_token, input);
    assert.equal(res.status, 200, `${tool}: ${JSON.stringify(res.json)}`);
    ran.add(tool);
    return res.json.data;
  };

  // Gmail: the capability carries the policy's constraint on `to`, and the executor writes the message.
  const send = await capability('gmail.messages.send');
  assert.deepEqual(send.authorization_details[0].constraints, { to: { ends_with: '@customer.com' } });
  const sent = await call('gmail.messages.send', { to: 'ann@customer.com', cc: ['bob@customer.com'], subject: 'Q3 plan — draft', body: 'Hello Ann,\nthe plan is attached.' });
  assert.deepEqual(google!.sent.map((m) => ({ from: m.from, to: m.to, cc: m.cc, bcc: m.bcc, subject: m.subject, text: m.text })), [
    { from: 'john@xcorp.example', to: ['ann@customer.com'], cc: ['bob@customer.com'], bcc: [], subject: 'Q3 plan — draft', text: 'Hello Ann,\nthe plan is attached.' },
  ]);
  // Every recipient is held to the constraint, in both capability formats; nothing leaves.
  for (const format of [JWT, BISCUIT]) {
    for (const input of [
      { to: 'eve@attacker.example', subject: 's', body: 'b' },
      { to: 'ann@customer.com', cc: ['eve@attacker.example'], subject: 's', body: 'b' },
      { to: 'ann@customer.com', bcc: ['bob@customer.com', 'eve@attacker.example'], subject: 's', body: 'b' },
      { to: 'ann@customer.com', bcc: ['eve@attacker.example, ann@customer.com'], subject: 's', body: 'b' },
      { to: 'eve@attacker.example\r\nBcc: x@customer.com', subject: 's', body: 'b' },
    ]) {
      const refused = await execute(writ, 'gmail.messages.send', (await capability('gmail.messages.send', format)).access_token, input);
      assert.ok([400, 403].includes(refused.status), `${JSON.stringify(input)}: ${JSON.stringify(refused.json)}`);
      assert.ok(['constraint_failed', 'invalid_input'].includes(refused.json.error.code));
    }
  }
  // A subject cannot add a header: it is encoded, and arrives as the text it was.
  await call('gmail.messages.send', { to: 'ann@customer.com', subject: 'Hi\r\nBcc: eve@attacker.example', body: 'b' });
  assert.deepEqual(google!.sent.at(-1)!.bcc, []);
  assert.equal(google!.sent.at(-1)!.subject, 'Hi\r\nBcc: eve@attacker.example');
  assert.equal(google!.sent.length, 2, 'no refused message reached the provider');
  const listed = await call('gmail.messages.list', { q: 'in:sent' });
  assert.ok(listed.messages.some((m: { id: string }) => m.id === sent.id));
  assert.equal((await call('gmail.messages.get', { id: sent.id, format: 'metadata' })).id, sent.id);

  // Google Calendar.
  const event = await call('google_calendar.events.insert', {
    calendarId: 'primary', summary: 'Q3 review', start: { dateTime: '2026-12-03T10:00:00Z' }, end: { dateTime: '2026-12-03T11:00:00Z' },
  });
  assert.equal(google!.events[0]!.organizer, 'john@xcorp.example');
  assert.deepEqual((await call('google_calendar.events.list', { calendarId: 'primary' })).items.map((e: { id: string }) => e.id), [event.id]);

  // HubSpot.
  const contact = await call('hubspot.contacts.create', { properties: { email: 'ann@customer.com', firstname: 'Ann' } });
  assert.equal(hubspot!.contacts[0]!.createdBy, 'john@xcorp.example');
  assert.deepEqual((await call('hubspot.contacts.get', { contactId: contact.id, properties: 'email' })).properties, { email: 'ann@customer.com' });
  const found = await call('hubspot.contacts.search', { filterGroups: [{ filters: [{ propertyName: 'email', operator: 'EQ', value: 'ann@customer.com' }] }] });
  assert.deepEqual(found.results.map((c: { id: string }) => c.id), [contact.id]);

  assert.deepEqual([...ran].sort(), [...TOOLS].sort(), 'every tool of the three connectors ran');
  // Each call carried John's own token for that provider, and only the stand-in saw it.
  for (const c of [...google!.calls, ...hubspot!.calls]) assert.equal(c.user, 'john@xcorp.example', `${c.method} ${c.path}`);
});
