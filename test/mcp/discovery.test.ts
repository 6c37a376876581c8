// Path-aware discovery: an issuer with a path is found where MCP clients look for it, and the MCP
// resource's metadata sits at the path derived from its identifier (RFC 9728 §3.1).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { freePort } from '../support/connect.ts';
import { startTestWrit } from '../support/writ.ts';

test('an issuer with a path answers at the path-aware metadata locations', async (t) => {
  const port = await freePort();
  const issuer = `http://localhost:${port}/tenant-a`;
  const writ = await startTestWrit({ env: { PORT: String(port), WRIT_ISSUER: issuer } });
  t.after(() => writ.stop());
  for (const path of ['/.well-known/oauth-authorization-server/tenant-a', '/.well-known/openid-configuration/tenant-a', '/.well-known/oauth-authorization-server']) {
    const res = await fetch(`http://localhost:${port}${path}`);
    assert.equal(res.status, 200, path);
    const metadata = await res.json();
    assert.equal(metadata.issuer, issuer, path);
    assert.equal(metadata.client_id_metadata_document_supported, true);
    assert.ok(metadata.revocation_feed_endpoint, 'Writ\'s own fields are there too');
  }
  assert.equal((await fetch(`http://localhost:${port}/.well-known/oauth-authorization-server/tenant-b`)).status, 404);
  const prm = await (await fetch(`http://localhost:${port}/.well-known/oauth-protected-resource/tenant-a/mcp`)).json();
  assert.equal(prm.resource, `${issuer}/mcp`);
  assert.deepEqual(prm.authorization_servers, [issuer]);
});
