// Baseline: what node:crypto does with Ed25519 on one core, the floor under every signature.
import { generateKeyPairSync, sign, verify } from 'node:crypto';
import { perSecondSync, round, type BenchModule, type Figures } from '../harness.ts';

export function ed25519Rates(ms: number): { sign: number; verify: number } {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  // About the size of a capability's JWS signing input.
  const message = Buffer.alloc(640, 'x');
  const signature = sign(null, message, privateKey);
  return {
    sign: perSecondSync(() => { sign(null, message, privateKey); }, ms),
    verify: perSecondSync(() => { verify(null, message, publicKey, signature); }, ms),
  };
}

export const cryptoBaseline: BenchModule = {
  id: 'crypto',
  name: 'ed25519 baseline',
  async run(ctx): Promise<Figures> {
    const rates = ed25519Rates(ctx.sizes.loopMs);
    return { baselines: { ed25519_sign_per_s: round(rates.sign, 0), ed25519_verify_per_s: round(rates.verify, 0) } };
  },
};
