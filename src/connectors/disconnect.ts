import type { Vault } from '../vault/service.ts';
import { revokeToken } from '../vault/oauth-client.ts';
import type { ConnectorCatalog } from './catalog.ts';

/**
 * Removes a connected account, revoking its token at the provider first where the provider has
 * an RFC 7009 endpoint (best effort: the account goes either way).
 */
export async function disconnectAccount(vault: Vault, catalog: ConnectorCatalog, org_id: string, account_id: string, connector: string) {
  const provider = await catalog.oauthProvider(org_id, connector);
  return vault.disconnect(org_id, account_id, {
    ...(provider?.revocation_url ? {
      revokeUpstream: async (credential) => {
        if (credential.type !== 'oauth2') return;
        const [token, hint] = credential.refresh_token ? [credential.refresh_token, 'refresh_token' as const] : [credential.access_token, 'access_token' as const];
        await revokeToken(provider, token, hint);
      },
    } : {}),
  });
}
