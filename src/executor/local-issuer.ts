// The verifier library reads the issuer's metadata, JWKS and revocation feed over HTTP. Inside
// Writ's own process the executor uses the same library, answered from memory: same code path,
// no loopback hop, and keys and revocations as fresh as the process's own.

export interface LocalIssuerSources {
  issuer: string;
  publicJwks: () => { keys: Array<Record<string, unknown>> };
  biscuitPublicKeys: () => Array<{ kid: number; algorithm: 'ed25519'; public_key: string }>;
  feedPage: (since: number, waitSeconds: number, signal?: AbortSignal) => Promise<unknown>;
}

export function localIssuerFetch(sources: LocalIssuerSources): typeof fetch {
  const base = sources.issuer.replace(/\/$/, '');
  return (async (input: string | URL | Request, init?: RequestInit) => {
    const url = new URL(typeof input === 'string' || input instanceof URL ? input : input.url);
    const path = `${url.origin}${url.pathname}`;
    if (path === `${base}/.well-known/oauth-authorization-server`) {
      return Response.json({
        issuer: base, jwks_uri: `${base}/jwks`, biscuit_public_keys: sources.biscuitPublicKeys(),
        revocation_feed_endpoint: `${base}/v1/revocations`,
      });
    }
    if (path === `${base}/jwks`) return Response.json(sources.publicJwks());
    if (path === `${base}/v1/revocations`) {
      const since = Number(url.searchParams.get('since') ?? '0') || 0;
      const wait = Math.min(Number(url.searchParams.get('wait') ?? '0') || 0, 30);
      return Response.json(await sources.feedPage(since, wait, init?.signal ?? undefined));
    }
    return new Response('not found', { status: 404 });
  }) as typeof fetch;
}
