import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { BiscuitRootKey, JwtKeyPair } from '../../src/capability/keys.ts';

export interface Revocation {
  id: string;
  type: 'jti' | 'biscuit_revocation_id' | 'auth_event_id';
  at: string;
}

/**
 * A stand-in for Writ's public surface that a verifier reads: RFC 8414 metadata, the JWKS, and a
 * long-polled revocation feed the test controls. Only public keys are ever served.
 */
export async function startIssuer(keys: { jwt: JwtKeyPair[]; biscuit: BiscuitRootKey[] }) {
  const revoked: Revocation[] = [];
  const waiting = new Set<() => void>();
  let metadataHits = 0;
  let issuer = '';

  const json = (res: ServerResponse, body: unknown) => {
    res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'no-store' });
    res.end(JSON.stringify(body));
  };

  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', issuer);
    if (url.pathname === '/.well-known/oauth-authorization-server') {
      metadataHits++;
      return json(res, {
        issuer,
        jwks_uri: `${issuer}/jwks`,
        biscuit_public_keys: keys.biscuit.map((k) => ({ kid: k.kid, algorithm: 'ed25519', public_key: k.publicKey })),
      });
    }
    if (url.pathname === '/jwks') return json(res, { keys: keys.jwt.map((k) => k.publicJwk) });
    if (url.pathname === '/v1/revocations') {
      const since = Number(url.searchParams.get('since') ?? 0);
      const wait = Math.min(Number(url.searchParams.get('wait') ?? 0), 30);
      const answer = () => json(res, { revoked: revoked.slice(since), cursor: String(revoked.length) });
      if (revoked.length > since || wait <= 0) return answer();
      const timer = setTimeout(() => { waiting.delete(wake); answer(); }, wait * 1000);
      const wake = () => { clearTimeout(timer); answer(); };
      waiting.add(wake);
      req.on('close', () => { clearTimeout(timer); waiting.delete(wake); });
      return;
    }
    res.writeHead(404).end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  return {
    get issuer() { return issuer; },
    get metadataHits() { return metadataHits; },
    keys,
    revoke(id: string, type: Revocation['type']) {
      revoked.push({ id, type, at: new Date().toISOString() });
      for (const wake of [...waiting]) { waiting.delete(wake); wake(); }
    },
    async close() {
      for (const wake of [...waiting]) wake();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
