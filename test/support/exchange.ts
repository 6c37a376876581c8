// Token exchange over real HTTP, with the raw answer kept for assertions on RFC errors.
import type { TestWrit } from './writ.ts';

export const TOKEN_EXCHANGE = 'urn:ietf:params:oauth:grant-type:token-exchange';
export const ACCESS_TOKEN = 'urn:ietf:params:oauth:token-type:access_token';
export const JWT = 'urn:ietf:params:oauth:token-type:jwt';
export const BISCUIT = 'urn:writ:params:oauth:token-type:biscuit';

export interface Client { client_id: string; client_secret: string }

export async function exchange(writ: TestWrit, client: Client, params: Record<string, string | string[]>, headers: Record<string, string> = {}) {
  const body = new URLSearchParams({ grant_type: TOKEN_EXCHANGE });
  for (const [k, v] of Object.entries(params)) for (const value of Array.isArray(v) ? v : [v]) body.append(k, value);
  const res = await fetch(`${writ.issuer}/token`, {
    method: 'POST',
    headers: {
      authorization: `Basic ${Buffer.from(`${encodeURIComponent(client.client_id)}:${encodeURIComponent(client.client_secret)}`).toString('base64')}`,
      'content-type': 'application/x-www-form-urlencoded',
      ...headers,
    },
    body,
  });
  return { status: res.status, json: (await res.json()) as any };
}

export const details = (tools: string[], extra: Record<string, unknown> = {}) => JSON.stringify([{ type: 'tool_access', tools, ...extra }]);
