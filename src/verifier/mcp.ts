import type { AuthInfo } from '@modelcontextprotocol/sdk/server/auth/types.js';
import { InsufficientScopeError, InvalidTokenError, ServerError } from '@modelcontextprotocol/sdk/server/auth/errors.js';
import type { VerifiedCapability, Verifier } from './verifier.ts';
import { VerifierError } from './errors.ts';

// The token verifier the MCP TypeScript SDK's `requireBearerAuth` takes: Writ refusals become the
// SDK's error classes, so the SDK answers 401 `invalid_token` (with `resource_metadata` when it is
// given one, RFC 9728 §5.1) and 403 `insufficient_scope` (RFC 6750 §3.1). The SDK is a runtime
// import here only for those classes (`writ/verifier/mcp`, an optional peer dependency).

export interface McpTokenVerifierOptions {
  /**
   * The tool every request to this server must be allowed to call. Without it, a token is checked
   * for who it speaks for only (signature, issuer, audience, expiry, revocation) and each tool
   * handler decides from `authInfo.scopes` or `authInfo.extra.capability`.
   */
  requiredTool?: string;
  /** The resource that tool acts on, when there is one. */
  resource?: string;
}

/** `{ verifyAccessToken }`, as `requireBearerAuth({ verifier })` takes it. */
export interface McpTokenVerifier {
  verifyAccessToken(token: string): Promise<AuthInfo>;
}

/** Writ names the right to call a tool `tool:<name>`, as in its consent and `scope` claim. */
const scopesOf = (capability: VerifiedCapability) => [...new Set(capability.rights.flatMap((d) => d.tools.map((tool) => `tool:${tool}`)))];

function resourceOf(audience: string): URL | undefined {
  try {
    return new URL(audience);
  } catch {
    return undefined;
  }
}

export function authInfoOf(token: string, capability: VerifiedCapability): AuthInfo {
  const resource = resourceOf(capability.aud);
  return {
    token,
    clientId: capability.client_id,
    scopes: scopesOf(capability),
    expiresAt: capability.exp,
    ...(resource && { resource }),
    extra: {
      org_id: capability.org_id,
      principal: capability.principal,
      sub: capability.sub,
      actor_chain: capability.actor_chain,
      capability,
    },
  };
}

function sdkError(error: VerifierError): Error {
  if (error.code === 'insufficient_scope' || error.code === 'constraint_failed') return new InsufficientScopeError(error.description);
  // The SDK has no 503; its ServerError answers 500 without a challenge, which a client retries.
  if (error.code === 'temporarily_unavailable') return new ServerError(error.description);
  return new InvalidTokenError(error.description);
}

export function mcpTokenVerifier(verifier: Verifier, options: McpTokenVerifierOptions = {}): McpTokenVerifier {
  return {
    async verifyAccessToken(token) {
      let capability: VerifiedCapability;
      try {
        capability = options.requiredTool
          ? await verifier.verify(token, { tool: options.requiredTool, ...(options.resource !== undefined && { resource: options.resource }) })
          : await verifier.identify(token);
      } catch (error) {
        if (error instanceof VerifierError) throw sdkError(error);
        throw error;
      }
      // RFC 9449 §7.1: the SDK passes only Bearer tokens, never a proof, so a bound token cannot
      // be presented here (`identify` does not look at the binding; `verify` would have refused).
      if (capability.cnf) throw new InvalidTokenError('the capability is bound to a DPoP key');
      return authInfoOf(token, capability);
    },
  };
}

export interface ProtectedResourceOptions {
  /** This server's resource identifier (RFC 8707), e.g. `https://docs.example/mcp`. */
  resource: string;
  /** Writ's issuer, the authorization server clients are sent to. */
  issuer: string;
  /** The tools this server has; each is the scope `tool:<name>` a client asks for. */
  tools?: readonly string[];
  name?: string;
}

/** RFC 9728 §3.1: where the metadata of a resource is served, derived from its identifier's path. */
export function protectedResourceMetadataUrl(resource: string): string {
  const url = new URL(resource);
  return `${url.origin}/.well-known/oauth-protected-resource${url.pathname === '/' ? '' : url.pathname}`;
}

/**
 * RFC 9728 §2: the protected resource metadata an MCP server serves for itself, naming Writ as its
 * authorization server; MCP clients read it after a 401 to find where to ask for a token.
 */
export function protectedResourceMetadata(options: ProtectedResourceOptions): Record<string, unknown> {
  return {
    resource: options.resource,
    authorization_servers: [options.issuer],
    bearer_methods_supported: ['header'],
    ...(options.tools && { scopes_supported: options.tools.map((tool) => `tool:${tool}`) }),
    ...(options.name !== undefined && { resource_name: options.name }),
  };
}
