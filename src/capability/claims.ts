import { z } from 'zod';
import { TOOL_ACCESS, type ToolAccessDetail } from '../rights/rights.ts';
import { argumentConstraintSchema } from '../rights/schema.ts';

/** RFC 8693 §4.1: the acting party, and recursively whoever it acts for. */
export interface ActorClaim {
  sub: string;
  act?: ActorClaim;
}

/** The claims of a Writ capability, identical in both formats (JWT claims, Biscuit authority facts). */
export interface CapabilityClaims {
  iss: string;
  aud: string;
  /** The user id, or the org id when `principal` is `org`. */
  sub: string;
  principal: 'user' | 'org';
  org_id: string;
  client_id: string;
  act?: ActorClaim;
  authorization_details: ToolAccessDetail[];
  /** Space-separated `tool:<name>`, derived from authorization_details. */
  scope: string;
  auth_event_id: string;
  jti: string;
  parent_jti?: string;
  /** RFC 9449 §6: the JWK SHA-256 thumbprint of the holder's DPoP key. */
  cnf?: { jkt: string };
  single_use?: boolean;
  iat: number;
  exp: number;
}

/** The `scope` string a capability carries for its details. */
export function scopeFor(details: ToolAccessDetail[]): string {
  const tools = new Set<string>();
  for (const d of details) for (const t of d.tools) tools.add(t);
  return [...tools].map((t) => `tool:${t}`).join(' ');
}

/** The act chain flattened, acting agent first (position 0). */
export function actorChain(act: ActorClaim | undefined): string[] {
  const chain: string[] = [];
  for (let link = act; link && chain.length < 32; link = link.act) chain.push(link.sub);
  return chain;
}

/** Rebuild the nested `act` claim from a flattened chain. */
export function actorFromChain(chain: string[]): ActorClaim | undefined {
  let act: ActorClaim | undefined;
  for (let i = chain.length - 1; i >= 0; i--) act = act ? { sub: chain[i]!, act } : { sub: chain[i]! };
  return act;
}

// Read back leniently from a token (unknown fields dropped); the constraint shape is the one
// every edge validates with.
export const toolAccessDetailSchema = z.object({
  type: z.literal(TOOL_ACCESS),
  tools: z.array(z.string().min(1)).min(1).max(64),
  resources: z.array(z.string().min(1)).max(64).optional(),
  expires_at: z.string().optional(),
  constraints: z.record(z.string(), argumentConstraintSchema).optional(),
});

const actorSchema: z.ZodType<ActorClaim> = z.lazy(() =>
  z.object({ sub: z.string().min(1), act: actorSchema.optional() }),
);

/** Shape of a capability's claims as read back from a token. Unknown claims are dropped. */
export const capabilityClaimsSchema = z.object({
  iss: z.string().min(1),
  aud: z.string().min(1),
  sub: z.string().min(1),
  principal: z.enum(['user', 'org']),
  org_id: z.string().min(1),
  client_id: z.string().min(1),
  act: actorSchema.optional(),
  authorization_details: z.array(toolAccessDetailSchema).min(1).max(64),
  scope: z.string(),
  auth_event_id: z.string().min(1),
  jti: z.string().min(1),
  parent_jti: z.string().min(1).optional(),
  cnf: z.object({ jkt: z.string().min(1) }).optional(),
  single_use: z.boolean().optional(),
  iat: z.number().int().nonnegative(),
  exp: z.number().int().nonnegative(),
  nbf: z.number().int().nonnegative().optional(),
});
