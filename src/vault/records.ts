import { z } from 'zod';
import type { AccountOwner, AccountStatus, ConnectedAccountRecord } from '../storage/ports/vault.ts';

// What a connected account holds once its credential is opened, and the view of an account
// that is safe to log or return: no ciphertext, no token, at most the last four characters of
// an API key.

export interface OAuthCredential {
  type: 'oauth2';
  access_token: string;
  refresh_token?: string | undefined;
  token_type: string;
  /** ISO 8601; absent for tokens that never expire. */
  expires_at?: string | undefined;
}

export interface ApiKeyCredential {
  type: 'api_key';
  api_key: string;
}

export type Credential = OAuthCredential | ApiKeyCredential;

// Parsed on every open, so a credential written by an older release with a missing field fails
// loudly instead of sending `undefined` upstream.
export const credentialSchema = z.discriminatedUnion('type', [
  z.strictObject({
    type: z.literal('oauth2'),
    access_token: z.string().min(1),
    refresh_token: z.string().min(1).optional(),
    token_type: z.string().min(1),
    expires_at: z.iso.datetime().optional(),
  }),
  z.strictObject({ type: z.literal('api_key'), api_key: z.string().min(1) }),
]);

/** A connected account without its sealed fields: what logs, audit events and responses may hold. */
export type SafeAccount = Omit<ConnectedAccountRecord, 'sealed_credential' | 'sealed_connect'>;

/** The account without its sealed fields: safe for logs, audit events and API responses. */
export function safeView(account: ConnectedAccountRecord): SafeAccount {
  const view: SafeAccount = {
    id: account.id,
    org_id: account.org_id,
    owner: account.owner.kind === 'user' ? { kind: 'user', user_id: account.owner.user_id } : { kind: 'org' },
    connector: account.connector,
    status: account.status,
    scopes: [...account.scopes],
    created_at: account.created_at,
    updated_at: account.updated_at,
    credential_version: account.credential_version,
  };
  if (account.expires_at !== undefined) view.expires_at = account.expires_at;
  if (account.credential_type !== undefined) view.credential_type = account.credential_type;
  if (account.api_key_hint !== undefined) view.api_key_hint = account.api_key_hint;
  if (account.cooldown_until !== undefined) view.cooldown_until = account.cooldown_until;
  if (account.last_error !== undefined) view.last_error = account.last_error;
  return view;
}

/** Last four characters, and only when the key is long enough that they give little away. */
export function apiKeyHint(api_key: string): string | undefined {
  return api_key.length >= 12 ? api_key.slice(-4) : undefined;
}
