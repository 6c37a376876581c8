// Feed followers never skip an entry: two worker processes revoke grants concurrently while
// several followers poll the public feed with `wait=0`, each over fresh connections (so their
// requests land on either worker). Every acknowledged revocation must reach every follower.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { remoteWrit } from '../support/writ.ts';
import { serveWrit } from '../support/workers.ts';

// Writers stop after this many acknowledged revocations (a count, not a duration, so a loaded
// machine makes the test slower, never weaker); `npm run test:long` asks for more.
const REVOCATIONS = Number(process.env.WRIT_FEED_TEST_REVOCATIONS ?? 400);
const WRITERS = 6;
const FOLLOWERS = 3;

async function page(issuer: string, cursor: string): Promise<{ revoked: Array<{ id: string; type: string }>; cursor: string }> {
  const res = await fetch(`${issuer}/v1/revocations?since=${cursor}&wait=0`, { headers: { connection: 'close' } });
  assert.equal(res.status, 200);
  return res.json() as Promise<{ revoked: Array<{ id: string; type: string }>; cursor: string }>;
}

test('followers of the feed see every acknowledged revocation while two processes write', async (t) => {
  const served = await serveWrit({ WRIT_WORKERS: '2' });
  t.after(() => served.stop());
  const { issuer, adminToken } = served;
  const writ = remoteWrit(issuer, adminToken);

  const org = (await writ.admin('POST', '/orgs', { name: 'Feed' })).json;
  const agent = (await writ.admin('POST', `/orgs/${org.id}/agents`, { name: 'svc', tools: ['demo.notes.list'] })).json;

  // A pool of grants to revoke, refilled as the writers go.
  const pool: string[] = [];
  await Promise.all(Array.from({ length: WRITERS }, async () => {
    for (let i = 0; i < 40; i++) {
      const g = await writ.admin('POST', `/orgs/${org.id}/agents/${agent.client_id}/org-grants`, { authorization_details: [{ type: 'tool_access', tools: ['demo.notes.list'] }] });
      assert.equal(g.status, 201, g.text);
      pool.push(g.json.id);
    }
  }));

  const acknowledged = new Set<string>();
  let writing = true;
  const writers = Array.from({ length: WRITERS }, async () => {
    for (let id = pool.pop(); id !== undefined && acknowledged.size < REVOCATIONS; id = pool.pop()) {
      const res = await fetch(`${issuer}/admin/v1/orgs/${org.id}/grants/${id}`, { method: 'DELETE', headers: { authorization: `Bearer ${adminToken}`, connection: 'close' } });
      assert.equal(res.status, 204, `revoking ${id}: ${await res.text()}`);
      acknowledged.add(id);
      // Keep the pool full: a new grant to revoke next (created on whichever worker answers).
      const g = await writ.admin('POST', `/orgs/${org.id}/agents/${agent.client_id}/org-grants`, { authorization_details: [{ type: 'tool_access', tools: ['demo.notes.list'] }] });
      assert.equal(g.status, 201, g.text);
      pool.push(g.json.id);
    }
  });
  const followers = Array.from({ length: FOLLOWERS }, async () => {
    const seen = new Set<string>();
    let cursor = '0';
    const drain = async () => {
      for (;;) {
        const p = await page(issuer, cursor);
        assert.ok(Number(p.cursor) >= Number(cursor), 'the cursor never moves back');
        cursor = p.cursor;
        for (const e of p.revoked) if (e.type === 'auth_event_id') seen.add(e.id);
        if (p.revoked.length === 0) return;
      }
    };
    while (writing) await drain();
    // Writers have stopped: whatever this cursor passed without seeing is lost for good.
    await drain();
    return seen;
  });
  try {
    await Promise.all(writers);
  } finally {
    writing = false;
  }
  const seenBy = await Promise.all(followers);

  assert.ok(acknowledged.size >= REVOCATIONS, `only ${acknowledged.size} of ${REVOCATIONS} revocations were acknowledged`);
  const missed = seenBy.map((seen) => [...acknowledged].filter((id) => !seen.has(id)));
  t.diagnostic(`acknowledged ${acknowledged.size} revocations; missed per follower: ${missed.map((m) => m.length).join(', ')}`);
  for (const m of missed) assert.deepEqual(m, [], `a follower skipped ${m.length} of ${acknowledged.size} acknowledged revocations`);
});
