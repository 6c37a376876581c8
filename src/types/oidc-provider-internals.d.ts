// oidc-provider 9.13.3 internals that have no public export, imported by src/as/grants/stock.ts
// only (see the reason there). The package version is pinned exactly because these paths are
// internal; @types/oidc-provider declares neither module.
declare module 'oidc-provider/lib/actions/grants/client_credentials.js' {
  export const handler: (provider: unknown, helpers: Record<string, unknown>, ctx: unknown) => Promise<void>;
  export const parameters: Set<string>;
  export const grantType: string;
}
declare module 'oidc-provider/lib/helpers/grants.js' {
  const helpers: Record<string, (...args: unknown[]) => unknown>;
  export = helpers;
}
