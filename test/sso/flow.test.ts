// The sealed sign-in flow a browser keeps between /sso/start and the callback: it opens only as
// sealed, whole and in time. An attacker who alters any byte, splices two flows, or replays it
// late gets nothing, and never an exception.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import fc from 'fast-check';
import { FlowSealer, type SsoFlow } from '../../src/sso/flow.ts';

const NOW = 1_900_000_000_000;
const flow = (extra: Partial<SsoFlow> = {}): SsoFlow => ({
  org_id: 'org_01', issuer: 'https://idp.example', state: 's'.repeat(43), nonce: 'n'.repeat(43), code_verifier: 'v'.repeat(43),
  next: '/account', exp: NOW / 1000 + 600, ...extra,
});

test('a sealed flow opens as it was sealed, until it expires', () => {
  const sealer = new FlowSealer(randomBytes(32));
  const f = flow({ interaction: 'uid-1', max_age: 300 });
  assert.deepEqual(sealer.open(sealer.seal(f), NOW), f);
  assert.equal(sealer.open(sealer.seal(f), f.exp * 1000), undefined, 'expired');
  assert.equal(new FlowSealer(randomBytes(32)).open(sealer.seal(f), NOW), undefined, 'another server\'s key');
  assert.ok(!sealer.seal(f).includes('v'.repeat(20)), 'the PKCE verifier is not readable in the cookie');
});

test('any altered character, splice or garbage opens to nothing and never throws', () => {
  const sealer = new FlowSealer(randomBytes(32));
  const a = sealer.seal(flow());
  const b = sealer.seal(flow({ org_id: 'org_02', state: 't'.repeat(43) }));
  fc.assert(fc.property(fc.nat({ max: a.length - 1 }), fc.constantFrom(...'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.'), (i, c) => {
    const altered = a.slice(0, i) + c + a.slice(i + 1);
    fc.pre(altered !== a);
    // Base64url's last character can carry unused bits: such an alteration may decode to the same bytes.
    const opened = sealer.open(altered, NOW);
    return opened === undefined || JSON.stringify(opened) === JSON.stringify(flow());
  }), { numRuns: 2000 });
  const [ia, , ta] = a.split('.');
  const [, bb] = b.split('.');
  assert.equal(sealer.open(`${ia}.${bb}.${ta}`, NOW), undefined, 'another flow\'s body under this one\'s tag');
  fc.assert(fc.property(fc.string({ maxLength: 300 }), (junk) => sealer.open(junk, NOW) === undefined));
  assert.equal(sealer.open('x'.repeat(10_000), NOW), undefined);
});
