import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SqliteDatabase } from '../../src/storage/sqlite/database.ts';
import { SqliteVaultStore, vaultMigrations } from '../../src/storage/sqlite/vault.ts';
import { createKeyRing, generateKey, LocalKeyProvider, type KeyRing } from '../../src/vault/crypto.ts';
import { Vault } from '../../src/vault/service.ts';
import type { OAuthProviderConfig } from '../../src/vault/oauth-client.ts';

export function tempDir(t: { after(fn: () => void): void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'writ-vault-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** A vault store on its own SqliteDatabase handle: two handles on one file act as two processes. */
export function openVaultStore(t: { after(fn: () => void): void }, path: string): { db: SqliteDatabase; store: SqliteVaultStore } {
  const db = new SqliteDatabase(path);
  db.migrate(vaultMigrations);
  t.after(() => db.close());
  return { db, store: new SqliteVaultStore(db) };
}

export function ringOf(...versions: Array<[number, Buffer]>): KeyRing {
  return createKeyRing(versions.map(([version, key]) => ({ version, key })));
}

export function newVault(store: SqliteVaultStore, ring: KeyRing = ringOf([1, generateKey()])): Vault {
  return new Vault({ store, keys: new LocalKeyProvider(ring) });
}

export type TokenMode = 'ok' | 'invalid_grant' | 'server_error' | 'drop' | 'invalid_client';

/**
 * A provider token endpoint on loopback that rotates refresh tokens: each refresh token works
 * once, so a lost rotation shows up as `invalid_grant` on the next refresh.
 */
export async function startTokenServer(t: { after(fn: () => Promise<void> | void): void }, options: { rotate?: boolean; expiresIn?: number; delayMs?: number } = {}) {
  const state = {
    mode: 'ok' as TokenMode,
    refreshCalls: 0,
    codeCalls: 0,
    validRefresh: new Set<string>(['rt-0']),
    issued: 0,
    lastAuthorization: undefined as string | undefined,
    lastForm: undefined as URLSearchParams | undefined,
  };
  const server = createServer(async (req: IncomingMessage, res: ServerResponse) => {
    let raw = '';
    for await (const chunk of req) raw += chunk;
    const form = new URLSearchParams(raw);
    state.lastForm = form;
    state.lastAuthorization = req.headers.authorization;
    const send = (status: number, body: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store' });
      res.end(JSON.stringify(body));
    };
    if (req.url === '/revoke') { res.writeHead(200); res.end(); return; }
    if (form.get('grant_type') === 'authorization_code') {
      state.codeCalls++;
      if (form.get('code') !== 'good-code' || !form.get('code_verifier')) return send(400, { error: 'invalid_grant' });
      state.issued++;
      const rt = `rt-${state.issued}`;
      state.validRefresh.add(rt);
      return send(200, { access_token: `at-${state.issued}`, token_type: 'Bearer', refresh_token: rt, expires_in: options.expiresIn ?? 3600, scope: 'notes:read notes:write' });
    }
    state.refreshCalls++;
    if (options.delayMs) await new Promise((r) => setTimeout(r, options.delayMs));
    switch (state.mode) {
      case 'drop': req.socket.destroy(); return;
      case 'server_error': return send(503, { error: 'temporarily_unavailable' });
      case 'invalid_client': return send(401, { error: 'invalid_client' });
      case 'invalid_grant': return send(400, { error: 'invalid_grant', error_description: 'refresh token revoked' });
      case 'ok': break;
    }
    const presented = form.get('refresh_token') ?? '';
    if (!state.validRefresh.has(presented)) return send(400, { error: 'invalid_grant' });
    state.issued++;
    const body: Record<string, unknown> = { access_token: `at-${state.issued}`, token_type: 'Bearer', expires_in: options.expiresIn ?? 3600 };
    if (options.rotate !== false) {
      state.validRefresh.delete(presented);
      const rt = `rt-${state.issued}`;
      state.validRefresh.add(rt);
      body.refresh_token = rt;
    }
    send(200, body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(() => new Promise<void>((resolve) => { server.closeAllConnections(); server.close(() => resolve()); }));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const provider: OAuthProviderConfig = {
    authorization_url: `${base}/authorize`, token_url: `${base}/token`, revocation_url: `${base}/revoke`,
    client_id: 'writ-client', client_secret: 'client-secret-value', token_endpoint_auth_method: 'client_secret_basic',
  };
  return { state, base, provider };
}
