import Provider, { errors } from 'oidc-provider';
import { bearerDigest, type OidcStore } from '../storage/ports/oidc.ts';
import type { ReplayStore } from '../storage/ports/replay.ts';

// Rotating refresh tokens of public clients with a short grace for a lost response. oidc-provider consumes a refresh
// token when it rotates it and treats any later use as reuse: it revokes the grant, which ends
// every token of the family (refresh-revocation.ts ends Writ's grant with it). A client whose
// network dropped the answer retries with the token it still holds and would lose its whole
// authorization. So, for `graceSeconds` after a rotation, the consumed token is accepted once more
// if the token it was rotated into has never been used: that successor is destroyed (it reached
// nobody, or nobody who used it) and the retry rotates again. A second retry, a retry after the
// successor was used, or one after the grace, is reuse as before.
//
// oidc-provider reads a refresh token, checks it is unconsumed and marks it consumed in separate
// steps, so two requests at once (two workers, or a grace retry racing the successor's first use)
// could both rotate it and fork the family into two live tokens. Each refresh token is therefore
// spent through one claim in the store every process shares: its own rotation and a grace retry
// that destroys it claim the same key, and whoever loses is refused.

const ROTATION = 'RefreshRotation';

interface Rotation { successor: string; at: number; successor_exp?: number | undefined; [key: string]: unknown }
type TokenLike = { jti: string; consumed?: number; clientId?: string; exp?: number };

/** The key a refresh token's one use is claimed under, by its stored digest. */
const useKey = (digest: string) => `refresh-use:${digest}`;

export function refreshGrace(provider: Provider, deps: { oidc: OidcStore; replay: ReplayStore; graceSeconds: number; now: () => number }): void {
  const graceMs = deps.graceSeconds * 1000;

  // Each rotation at the token endpoint: which token replaced which, kept for the grace only.
  provider.use(async (ctx, next) => {
    await next();
    const entities = (ctx.oidc as unknown as { entities?: { RotatedRefreshToken?: TokenLike; RefreshToken?: TokenLike } } | undefined)?.entities;
    const rotated = entities?.RotatedRefreshToken;
    const successor = entities?.RefreshToken;
    if (ctx.status !== 200 || !rotated || !successor || rotated === successor) return;
    const at = deps.now();
    await deps.oidc.upsert(ROTATION, bearerDigest(rotated.jti), { successor: bearerDigest(successor.jti), at, successor_exp: successor.exp } satisfies Rotation, at + graceMs);
  });

  // A rotation spends the token once across every process; a grace retry has claimed its spend already.
  const graced = new WeakSet<object>();
  const proto = (provider.RefreshToken as unknown as { prototype: { consume(this: TokenLike): Promise<void> } }).prototype;
  const consume = proto.consume;
  /** A use claim outlives the token it is for. */
  const claimUntil = (exp: number | undefined) => new Date(Math.max(deps.now(), (exp ?? 0) * 1000) + graceMs + 60_000);
  proto.consume = async function (this: TokenLike) {
    if (!graced.has(this)) {
      if (!(await deps.replay.claimOnce(useKey(bearerDigest(this.jti)), claimUntil(this.exp)))) {
        throw new errors.InvalidGrant('refresh token already used');
      }
    }
    return consume.call(this);
  };

  // Only the refresh grant reads a refresh token ignoring expiry; introspection and revocation
  // find it plainly and see it as it is.
  const RefreshToken = provider.RefreshToken as unknown as { find(value: string, options?: { ignoreExpiration?: boolean }): Promise<TokenLike | undefined> };
  const find = RefreshToken.find.bind(RefreshToken);
  RefreshToken.find = async (value, options) => {
    const token = await find(value, options);
    if (!token?.consumed || options?.ignoreExpiration !== true || !token.clientId) return token;
    // Public clients only: a confidential agent keeps strict reuse detection.
    const client = (await provider.Client.find(token.clientId)) as unknown as { tokenEndpointAuthMethod?: string } | undefined;
    if (client?.tokenEndpointAuthMethod !== 'none') return token;
    // Only the client it was issued to: anyone else is refused by oidc-provider next, and must not destroy the successor first.
    if ((Provider.ctx as { oidc?: { client?: { clientId?: string } } } | undefined)?.oidc?.client?.clientId !== token.clientId) return token;
    const key = bearerDigest(value);
    const rotation = (await deps.oidc.find(ROTATION, key)) as Rotation | undefined;
    if (!rotation || deps.now() - rotation.at > graceMs) return token;
    const successor = await deps.oidc.find('RefreshToken', rotation.successor);
    if (!successor || successor.consumed) return token;
    // One retry per rotation, across every process.
    if (!(await deps.replay.claimOnce(`refresh-grace:${key}`, new Date(rotation.at + graceMs)))) return token;
    // The successor's own use and this retry claim one key: if it is being spent right now, this is reuse.
    if (!(await deps.replay.claimOnce(useKey(rotation.successor), claimUntil(rotation.successor_exp ?? successor.exp as number | undefined)))) return token;
    await deps.oidc.destroy('RefreshToken', rotation.successor);
    await deps.oidc.destroy(ROTATION, key);
    delete token.consumed;
    graced.add(token);
    return token;
  };
}
