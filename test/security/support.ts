// Shared ground for the adversarial suite: a real Writ with one delegation in place, ways to
// forge tokens, and a ledger of what the server wrote, so every refusal can also prove that
// nothing was issued, granted or spent.
import assert from 'node:assert/strict';
import { createHmac, generateKeyPairSync, sign, type KeyObject } from 'node:crypto';
import { startTestWrit, seedOrg, type TestWrit } from '../support/writ.ts';
import { delegate } from '../support/delegation.ts';
import { exchange, ACCESS_TOKEN, JWT, type Client } from '../support/exchange.ts';
import type { WritOptions } from '../../src/app/writ.ts';

export const GRANTED = [{ type: 'tool_access', tools: ['notion.pages.create', 'demo.notes.create'], resources: ['notion:page:8a1f*', 'demo:notebook:team'] }];

export type Seeded = Awaited<ReturnType<typeof seedOrg>>;

export interface Scene {
  writ: TestWrit;
  seeded: Seeded;
  /** The delegated (opaque) access token the agent holds after consent. */
  subject: string;
}

export async function scene(options: { writ?: WritOptions; env?: Record<string, string> } = {}): Promise<Scene> {
  const writ = await startTestWrit({ ...(options.writ ? { writ: options.writ } : {}), ...(options.env ? { env: options.env } : {}) });
  const seeded = await seedOrg(writ);
  const run = await delegate(writ, seeded, { authorization_details: GRANTED });
  assert.ok(run.tokens, 'delegation completed');
  return { writ, seeded, subject: run.tokens.access_token };
}

/** A JWT capability minted through a real exchange. */
export async function capability(s: Scene, params: Record<string, string> = {}): Promise<string> {
  const res = await exchange(s.writ, s.seeded.agent, { subject_token: s.subject, subject_token_type: ACCESS_TOKEN, ...params });
  assert.equal(res.status, 200, JSON.stringify(res.json));
  return res.json.access_token as string;
}

/** What the server has written for an org: the numbers every refusal must leave unchanged. */
export interface Ledger { grants: number; exchanged: number; events: number }

export async function ledger(writ: TestWrit, org: string): Promise<Ledger> {
  const grants = (await writ.admin('GET', `/orgs/${org}/grants`)).json.grants.length as number;
  const exchanged = (await writ.admin('GET', `/orgs/${org}/audit?type=token.exchanged&limit=1000`)).json.events.length as number;
  const events = (await writ.admin('GET', `/orgs/${org}/audit?limit=1000`)).json.events.length as number;
  return { grants, exchanged, events };
}

/** Asserts that nothing was issued and no grant appeared (refusals may add audit events). */
export function assertNothingIssued(before: Ledger, after: Ledger): void {
  assert.equal(after.exchanged, before.exchanged, 'no capability was issued');
  assert.equal(after.grants, before.grants, 'no grant was created or removed');
}

// ---- JWT forging -----------------------------------------------------------------------------

const b64 = (value: unknown) => Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)).toString('base64url');

export function decodeJwt(token: string): { header: Record<string, unknown>; payload: Record<string, unknown> } {
  const [h = '', p = ''] = token.split('.');
  return { header: JSON.parse(Buffer.from(h, 'base64url').toString()), payload: JSON.parse(Buffer.from(p, 'base64url').toString()) };
}

/** Signs header.payload with an Ed25519 key (EdDSA), whatever the header claims. */
export function signEd25519(header: Record<string, unknown>, payload: Record<string, unknown>, key: KeyObject): string {
  const input = `${b64(header)}.${b64(payload)}`;
  return `${input}.${sign(null, Buffer.from(input), key).toString('base64url')}`;
}

/** HS256 over header.payload with `secret` as the HMAC key (the algorithm-confusion attack). */
export function signHs256(header: Record<string, unknown>, payload: Record<string, unknown>, secret: string | Buffer): string {
  const input = `${b64(header)}.${b64(payload)}`;
  return `${input}.${createHmac('sha256', secret).update(input).digest('base64url')}`;
}

export function unsigned(header: Record<string, unknown>, payload: Record<string, unknown>): string {
  return `${b64(header)}.${b64(payload)}.`;
}

export function attackerKey() {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  return { privateKey, publicKey, jwk: { ...(publicKey.export({ format: 'jwk' }) as Record<string, unknown>), alg: 'EdDSA', use: 'sig' } };
}

// ---- Presenting tokens ------------------------------------------------------------------------

export async function presentAsSubject(s: Scene, token: string, type = JWT, client: Client = s.seeded.agent) {
  return exchange(s.writ, client, { subject_token: token, subject_token_type: type });
}

/** RFC 7662 introspection with the agent's client credentials. */
export async function introspect(writ: TestWrit, client: Client, token: string): Promise<{ status: number; json: any }> {
  const res = await fetch(`${writ.issuer}/introspect`, {
    method: 'POST',
    headers: {
      authorization: `Basic ${Buffer.from(`${encodeURIComponent(client.client_id)}:${encodeURIComponent(client.client_secret)}`).toString('base64')}`,
      'content-type': 'application/x-www-form-urlencoded',
    },
    body: new URLSearchParams({ token }),
  });
  return { status: res.status, json: await res.json() };
}

/** A clock that runs with real time plus an offset the test can move. */
export function offsetClock(offsetMs = 0) {
  let offset = offsetMs;
  return { now: () => Date.now() + offset, advance(ms: number) { offset += ms; }, set(ms: number) { offset = ms; } };
}
