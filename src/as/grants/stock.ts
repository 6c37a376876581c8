import type Provider from 'oidc-provider';
import * as grantHelpers from 'oidc-provider/lib/helpers/grants.js';

/** oidc-provider's grant helpers bound to a provider, as its own grant handlers receive them. */
export function boundGrantHelpers(provider: Provider): Record<string, (...args: unknown[]) => Promise<unknown>> {
  return Object.fromEntries(
    Object.entries(grantHelpers).map(([name, fn]) => [name, (fn as (...a: unknown[]) => Promise<unknown>).bind(undefined, provider)]),
  );
}
