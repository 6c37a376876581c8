import type Provider from 'oidc-provider';
import * as clientCredentials from 'oidc-provider/lib/actions/grants/client_credentials.js';
import * as grantHelpers from 'oidc-provider/lib/helpers/grants.js';

// The only imports of oidc-provider's internals, pinned to 9.13.3 (package.json has the exact
// version, and the declarations in src/types/oidc-provider-internals.d.ts). oidc-provider 9 hands
// a grant registered with `registerGrantType` the request context and nothing else:
// - DPoP proof validation and replay checks (RFC 9449 §4.3, §11.1) for a grant of our own
//   (token exchange) have no public API, only these helpers its own grants receive;
// - client credentials bound to an org-level grant must refuse before the stock handler issues
//   anything and must give the token rights the request did not name, and no configuration hook
//   runs there (`authorizationDetailsForAccessToken` runs only when the request carries
//   `authorization_details`), so the stock handler is wrapped rather than rewritten.
// A public `registerGrantType` helper argument (or exported grant helpers) would remove this module.

/** oidc-provider's grant helpers bound to a provider, as its own grant handlers receive them. */
export function boundGrantHelpers(provider: Provider): Record<string, (...args: unknown[]) => Promise<unknown>> {
  return Object.fromEntries(
    Object.entries(grantHelpers).map(([name, fn]) => [name, (fn as (...a: unknown[]) => Promise<unknown>).bind(undefined, provider)]),
  );
}

/** oidc-provider's own `client_credentials` handler and its parameters. */
export const stockClientCredentials = {
  parameters: clientCredentials.parameters,
  handler: clientCredentials.handler,
};
