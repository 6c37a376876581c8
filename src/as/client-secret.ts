import type Provider from 'oidc-provider';
import { digestSecret, safeEqual } from '../core/secrets.ts';

// Agents' client secrets are stored as SHA-256 digests (256-bit random values, so a fast digest is
// enough; RFC 6819 §5.1.4.1.3), and the adapter hands oidc-provider the digest as
// `client_secret` (adapter.ts clientMetadata). oidc-provider 9.13.3 compares `client_secret_basic`
// and `client_secret_post` credentials with `Client#compareClientSecret` against that field and
// has no configuration for secrets kept as digests: no comparison option, and the adapter cannot
// give back a secret that is not stored. The method is declared on `Client` in its public types
// and is the extension point its maintainer names for hashed secrets (panva/node-oidc-provider#631),
// so it is overridden here, on this provider's own Client class only. A configuration option for
// the client secret comparison in a later oidc-provider would replace this module.
//
// The override fails closed: if a later version stopped calling it, the stock comparison would
// compare the stored digest with the presented secret, which never match.
//
// A digest is no key for HMAC, so `client_secret_jwt` is not offered (admin/schemas.ts).

type ClientWithSecret = { clientSecret?: string; previous_secret_digest?: string };

/**
 * Authenticates `client_secret_*` clients by the digest of the presented secret, in constant time:
 * the current secret, or a rotated-out one while its overlap lasts (adapter.ts puts it in the
 * metadata only until then). Both comparisons always run.
 */
export function compareClientSecretsByDigest(provider: Provider): void {
  provider.Client.prototype.compareClientSecret = function compareClientSecret(this: ClientWithSecret, presented: string) {
    const digest = digestSecret(presented);
    const current = typeof this.clientSecret === 'string' && safeEqual(this.clientSecret, digest);
    const previous = typeof this.previous_secret_digest === 'string' && safeEqual(this.previous_secret_digest, digest);
    return current || previous;
  };
}
