import type Provider from 'oidc-provider';
import type { GrantService } from '../grants/service.ts';
import { parseExternalAccountId } from './mcp-clients.ts';

// oidc-provider revokes its own grant when a refresh token is revoked at the RFC 7009 endpoint or
// presented again after rotation (reuse detection). Writ's grant of the same id ends with it —
// capabilities, feed and audit included — before the answer leaves, so the agent's next request
// already finds everything derived from it refused.

type Pending = { writPending?: Array<Promise<unknown>> };

export function endGrantsWithRefreshTokens(provider: Provider, grants: GrantService): void {
  provider.on('grant.revoked', (ctx, grantId: string) => {
    const client = ctx.oidc?.client as unknown as { clientId: string; org_id?: string } | undefined;
    // An external MCP client's org is the one its person signed in to (mcp-clients.ts).
    const token = (ctx.oidc as unknown as { entities?: { RefreshToken?: { accountId?: string } } } | undefined)?.entities?.RefreshToken;
    const org_id = client?.org_id ?? parseExternalAccountId(token?.accountId)?.org_id;
    if (!client || !org_id) return;
    const reason = ctx.oidc.route === 'revocation' ? 'refresh token revoked' : 'refresh token reused';
    const state = ctx.state as Pending;
    (state.writPending ??= []).push(grants.revoke(org_id, { id: grantId }, { kind: 'agent', client_id: client.clientId }, reason));
  });
  provider.use(async (ctx, next) => {
    try {
      await next();
    } finally {
      const pending = (ctx.state as Pending).writPending;
      if (pending?.length) await Promise.all(pending);
    }
  });
}
