// oidc-provider's stock grant handlers and their helpers, imported to wrap them (see
// src/as/grants/). The package version is pinned exactly because these paths are internal.
declare module 'oidc-provider/lib/actions/grants/client_credentials.js' {
  export const handler: (provider: unknown, helpers: Record<string, unknown>, ctx: unknown) => Promise<void>;
  export const parameters: Set<string>;
  export const grantType: string;
}
declare module 'oidc-provider/lib/helpers/grants.js' {
  const helpers: Record<string, (...args: unknown[]) => unknown>;
  export = helpers;
}
