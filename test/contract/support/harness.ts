import type { TestContext } from 'node:test';
import { newId } from '../../../src/core/ids.ts';
import type { AgentRecord, GrantRecord, OrgRecord, UserRecord, WritStore } from '../../../src/storage/index.ts';

// What every contract suite is given: a way to open a fresh, empty store. `openPeer`, where an
// adapter has it, opens a second handle on the same data, as a second process would.

export interface OpenedStore {
  store: WritStore;
  close(): Promise<void>;
  openPeer?(): Promise<WritStore>;
}

export type StoreFactory = () => Promise<OpenedStore>;

/** A suite: registers its tests for one adapter. */
export type ContractSuite = (adapter: string, factory: StoreFactory) => void;

/** Opens a fresh store for one test and closes it when the test ends. */
export async function freshStore(t: TestContext, factory: StoreFactory): Promise<OpenedStore> {
  const opened = await factory();
  t.after(() => opened.close());
  return opened;
}

/** JSON round trip: compares records without caring whether an absent field is `undefined` or missing. */
export const plain = <T>(value: T): T => JSON.parse(JSON.stringify(value)) as T;

export const T0 = '2025-03-01T12:00:00.000Z';

export const isoAt = (minutes: number): string => new Date(Date.parse(T0) + minutes * 60_000).toISOString();

export function orgRecord(name = 'Acme'): OrgRecord {
  return { id: newId('org'), name, created_at: T0 };
}

export function userRecord(org_id: string, username: string, extra: Partial<UserRecord> = {}): UserRecord {
  return {
    id: newId('usr'), org_id, username, email: `${username}@example.test`, roles: ['member'],
    password_hash: 'scrypt$16384$8$1$c2FsdA$aGFzaA', created_at: T0, ...extra,
  };
}

export function agentRecord(org_id: string, extra: Partial<AgentRecord> = {}): AgentRecord {
  return {
    client_id: newId('agt'), org_id, name: 'Content manager', redirect_uris: ['https://agent.example/cb'],
    token_endpoint_auth_method: 'client_secret_basic', client_secret_digest: 'ab'.repeat(32),
    tools: ['notion.pages.create', 'gmail.messages.send'], created_at: T0, ...extra,
  };
}

export function grantRecord(org_id: string, extra: Partial<GrantRecord> = {}): GrantRecord {
  return {
    id: newId('grt'), org_id, user_id: 'usr_1', agent_id: 'agt_1',
    authorization_details: [{ type: 'tool_access', tools: ['notion.pages.create'], resources: ['notion:page:8a1f'] }],
    created_at: T0, ...extra,
  };
}

/** Two orgs that exist in the directory, for isolation checks. */
export async function twoOrgs(store: WritStore): Promise<[OrgRecord, OrgRecord]> {
  const a = orgRecord('Org A');
  const b = orgRecord('Org B');
  await store.directory.createOrg(a);
  await store.directory.createOrg(b);
  return [a, b];
}
