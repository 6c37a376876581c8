import { createPrivateKey, createPublicKey, generateKeyPairSync, sign, verify, type KeyObject } from 'node:crypto';
import type { Clock } from '../core/clock.ts';
import { newId } from '../core/ids.ts';
import type { AuditRecord, AuditStore } from '../storage/ports/audit.ts';
import type { CheckpointKeyRecord, CheckpointRecord, CheckpointStore } from '../storage/ports/evidence.ts';
import { canonicalJson } from './chain.ts';
import { verifyChain } from './log.ts';

type AuditRecordLike = AuditRecord;

// Signed checkpoints of each org's audit chain: "at time T, org O's chain had head hash H at
// sequence S", signed with the org's own Ed25519 key. Anyone holding an earlier checkpoint and the
// public key detects a later rewrite of the chain, even a whole one with every hash recomputed:
// the rewritten event at S no longer has hash H, and nobody without the private key can sign a new
// checkpoint for it. The private key is sealed under the master key, apart from the store.

export interface CheckpointSealer {
  seal(plaintext: string, aad: string): string;
  open(sealed: string, aad: string): string;
}

/** What a checkpoint signs: its fields in canonical JSON. */
export function checkpointPayload(c: Omit<CheckpointRecord, 'signature'>): Buffer {
  return Buffer.from(canonicalJson({ org_id: c.org_id, seq: c.seq, head_hash: c.head_hash, at: c.at, kid: c.kid }), 'utf8');
}

export function verifyCheckpoint(c: CheckpointRecord, jwk: Record<string, string>): boolean {
  if (jwk.kty !== 'OKP' || jwk.crv !== 'Ed25519' || (jwk.kid !== undefined && jwk.kid !== c.kid)) return false;
  try {
    const { kid: _kid, ...keyOnly } = jwk;
    return verify(null, checkpointPayload(c), createPublicKey({ key: keyOnly, format: 'jwk' }), Buffer.from(c.signature, 'base64url'));
  } catch {
    return false;
  }
}

/** The published document: the org's public keys (a JWK Set) and its checkpoints, oldest first. */
export interface CheckpointDocument {
  org_id: string;
  keys: { keys: Array<Record<string, string>> };
  checkpoints: CheckpointRecord[];
}

const aad = (org_id: string, kid: string) => `writ:audit-checkpoint-key:${org_id}:${kid}`;

export class Checkpoints {
  readonly #store: CheckpointStore;
  readonly #audit: AuditStore;
  readonly #sealer: CheckpointSealer;
  readonly #clock: Clock;
  readonly #signers = new Map<string, { kid: string; key: KeyObject }>();

  constructor(store: CheckpointStore, audit: AuditStore, sealer: CheckpointSealer, clock: Clock) {
    this.#store = store;
    this.#audit = audit;
    this.#sealer = sealer;
    this.#clock = clock;
  }

  /** The org's signing key, created on first use (the first process to store one wins). */
  async signer(org_id: string): Promise<{ kid: string; key: KeyObject }> {
    const cached = this.#signers.get(org_id);
    if (cached) return cached;
    let record = (await this.#store.listKeys(org_id))[0];
    if (!record) {
      const { privateKey, publicKey } = generateKeyPairSync('ed25519');
      const kid = newId('key');
      const pem = privateKey.export({ format: 'pem', type: 'pkcs8' }).toString();
      record = await this.#store.createKeyIfAbsent({
        org_id, kid, public_jwk: { ...(publicKey.export({ format: 'jwk' }) as Record<string, string>), kid, alg: 'EdDSA', use: 'sig' },
        sealed_private_key: this.#sealer.seal(pem, aad(org_id, kid)), created_at: new Date(this.#clock.now()).toISOString(),
      });
    }
    const signer = { kid: record.kid, key: createPrivateKey(this.#sealer.open(record.sealed_private_key, aad(org_id, record.kid))) };
    this.#signers.set(org_id, signer);
    return signer;
  }

  /** Signs the chain's current head, unless it is already checkpointed; returns the latest checkpoint (none for an empty chain). */
  async checkpoint(org_id: string): Promise<CheckpointRecord | undefined> {
    const [head] = await this.#audit.queryAudit(org_id, { limit: 1 });
    if (!head) return undefined;
    const latest = await this.#store.latestCheckpoint(org_id);
    if (latest && latest.seq >= head.seq) return latest;
    const { kid, key } = await this.signer(org_id);
    const unsigned = { org_id, seq: head.seq, head_hash: head.hash, at: new Date(this.#clock.now()).toISOString(), kid };
    const record: CheckpointRecord = { ...unsigned, signature: sign(null, checkpointPayload(unsigned), key).toString('base64url') };
    if (await this.#store.appendCheckpoint(record)) return record;
    return this.#store.latestCheckpoint(org_id);
  }

  /** Signs arbitrary bytes with the org's key (SIEM deliveries); returns the kid and the base64url signature. */
  async sign(org_id: string, data: Buffer): Promise<{ kid: string; signature: string }> {
    const { kid, key } = await this.signer(org_id);
    return { kid, signature: sign(null, data, key).toString('base64url') };
  }

  async document(org_id: string, options: { after_seq?: number; limit?: number } = {}): Promise<CheckpointDocument> {
    const keys = await this.#store.listKeys(org_id);
    return {
      org_id,
      keys: { keys: keys.map((k: CheckpointKeyRecord) => k.public_jwk) },
      checkpoints: await this.#store.listCheckpoints(org_id, options),
    };
  }
}

export interface EvidenceResult {
  ok: boolean;
  events_checked: number;
  checkpoints_checked: number;
  /** What is wrong, in order found; empty when ok. */
  problems: Array<{ reason: 'chain_broken' | 'bad_signature' | 'unknown_key' | 'other_org' | 'log_truncated' | 'head_mismatch' | 'no_checkpoints'; seq?: number; detail: string }>;
}

/**
 * Checks an exported log (JSON lines of Writ's events, oldest first) against signed checkpoints,
 * offline: the chain must hold from genesis, every checkpoint must be signed by a key of the
 * document (or of `pinnedKeys`, the keys the checker saved earlier), and the log must reach every
 * checkpoint with exactly the head hash it signed. An edited event breaks the chain; a deleted
 * tail leaves a checkpoint beyond the log; a whole rewrite, hashes recomputed, misses the signed
 * heads.
 */
export async function verifyEvidence(events: AuditRecordLike[], document: CheckpointDocument, pinnedKeys?: Array<Record<string, string>>): Promise<EvidenceResult> {
  const problems: EvidenceResult['problems'] = [];
  const chain = await verifyChain(events);
  if (!chain.ok) problems.push({ reason: 'chain_broken', seq: chain.first_broken!.seq, detail: `${chain.first_broken!.reason} at sequence ${chain.first_broken!.seq}` });
  const keys = pinnedKeys ?? document.keys.keys;
  const bySeq = new Map(events.map((e) => [e.seq, e]));
  const last = events.at(-1)?.seq ?? 0;
  if (document.checkpoints.length === 0) problems.push({ reason: 'no_checkpoints', detail: 'the document holds no checkpoint to check against' });
  for (const c of document.checkpoints) {
    if (c.org_id !== document.org_id || events.some((e) => e.org_id !== c.org_id)) {
      problems.push({ reason: 'other_org', seq: c.seq, detail: `checkpoint ${c.seq} or the log belongs to another org` });
      continue;
    }
    const key = keys.find((k) => k.kid === c.kid);
    if (!key) { problems.push({ reason: 'unknown_key', seq: c.seq, detail: `checkpoint ${c.seq} is signed by unknown key ${c.kid}` }); continue; }
    if (!verifyCheckpoint(c, key)) { problems.push({ reason: 'bad_signature', seq: c.seq, detail: `checkpoint ${c.seq}'s signature does not verify` }); continue; }
    const event = bySeq.get(c.seq);
    if (!event) problems.push({ reason: 'log_truncated', seq: c.seq, detail: `the log ends at ${last}, before checkpoint ${c.seq}` });
    else if (event.hash !== c.head_hash) problems.push({ reason: 'head_mismatch', seq: c.seq, detail: `event ${c.seq} is not the one checkpoint ${c.seq} signed` });
  }
  return { ok: problems.length === 0, events_checked: chain.events_checked, checkpoints_checked: document.checkpoints.length, problems };
}
