import type { Collection, Db } from 'mongodb';
import type { ApprovalRecord, ApprovalSettings, ApprovalStatus, ApprovalStore, WebhookDelivery } from '../../approvals/store.ts';
import { isDuplicateKey, type IndexPlan } from './database.ts';

// Approval requests, org approval settings and webhook deliveries. A status change is one
// conditional single-document update, so two deciders cannot both win.

type ApprovalDoc = ApprovalRecord & { _id: string };
type SettingsDoc = ApprovalSettings & { _id: string };
type DeliveryDoc = WebhookDelivery & { _id: string; open: boolean };

export const approvalIndexes: IndexPlan[] = [
  {
    collection: 'approvals',
    indexes: [
      { key: { request_ref: 1 }, name: 'approvals_request_ref', unique: true },
      { key: { org_id: 1, status: 1, created_at: -1 }, name: 'approvals_org_status' },
      { key: { status: 1, expires_at: 1 }, name: 'approvals_expiring' },
    ],
  },
  {
    collection: 'approval_deliveries',
    indexes: [
      { key: { open: 1, next_attempt_at: 1 }, name: 'approval_deliveries_due' },
      { key: { org_id: 1, approval_id: 1 }, name: 'approval_deliveries_by_approval' },
    ],
  },
];

const strip = <T extends { _id: string }>(d: T | null): Omit<T, '_id' | 'open'> | undefined => {
  if (!d) return undefined;
  const { _id, open, ...rest } = d as T & { open?: boolean };
  void _id; void open;
  return rest;
};

export class MongoApprovalStore implements ApprovalStore {
  readonly #approvals: Collection<ApprovalDoc>;
  readonly #settings: Collection<SettingsDoc>;
  readonly #deliveries: Collection<DeliveryDoc>;

  constructor(db: Db) {
    this.#approvals = db.collection<ApprovalDoc>('approvals');
    this.#settings = db.collection<SettingsDoc>('approval_settings');
    this.#deliveries = db.collection<DeliveryDoc>('approval_deliveries');
  }

  async createApproval(org_id: string, a: ApprovalRecord) {
    if (a.org_id !== org_id) throw new TypeError('approval.org_id does not match org_id');
    await this.#approvals.insertOne({ ...a, _id: a.id });
  }

  async getApproval(org_id: string, id: string) {
    return strip(await this.#approvals.findOne({ _id: id, org_id })) as ApprovalRecord | undefined;
  }

  async findApprovalByRequest(request_ref: string) {
    return strip(await this.#approvals.findOne({ request_ref })) as ApprovalRecord | undefined;
  }

  async listApprovals(org_id: string, filter: { status?: ApprovalStatus; user_id?: string } = {}) {
    const docs = await this.#approvals.find({ org_id, ...(filter.status ? { status: filter.status } : {}), ...(filter.user_id ? { user_id: filter.user_id } : {}) })
      .sort({ created_at: -1, _id: -1 }).limit(500).toArray();
    return docs.map((d) => strip(d) as ApprovalRecord);
  }

  async expiredPending(now: string, limit: number) {
    const docs = await this.#approvals.find({ status: 'pending', expires_at: { $lte: now } }).sort({ expires_at: 1 }).limit(limit).toArray();
    return docs.map((d) => strip(d) as ApprovalRecord);
  }

  async transitionApproval(org_id: string, id: string, from: ApprovalStatus, next: ApprovalRecord) {
    const res = await this.#approvals.replaceOne({ _id: id, org_id, status: from }, { ...next });
    return res.modifiedCount === 1 || (res.matchedCount === 1 && from === next.status);
  }

  async getApprovalSettings(org_id: string) {
    return strip(await this.#settings.findOne({ _id: org_id })) as ApprovalSettings | undefined;
  }

  async putApprovalSettings(org_id: string, s: ApprovalSettings) {
    if (s.org_id !== org_id) throw new TypeError('settings.org_id does not match org_id');
    await this.#settings.replaceOne({ _id: org_id }, { ...s }, { upsert: true });
  }

  async enqueueDelivery(org_id: string, d: WebhookDelivery) {
    try {
      await this.#deliveries.insertOne({ ...d, org_id, _id: d.id, open: true });
    } catch (err) {
      if (!isDuplicateKey(err)) throw err;
    }
  }

  async dueDeliveries(now: string, limit: number) {
    const docs = await this.#deliveries.find({ open: true, next_attempt_at: { $lte: now } }).sort({ next_attempt_at: 1 }).limit(limit).toArray();
    return docs.map((d) => strip(d) as WebhookDelivery);
  }

  async claimDelivery(org_id: string, id: string, next_attempt_at: string, lease_until: string) {
    const res = await this.#deliveries.updateOne({ _id: id, org_id, open: true, next_attempt_at }, { $set: { next_attempt_at: lease_until } });
    return res.modifiedCount === 1;
  }

  async updateDelivery(org_id: string, d: WebhookDelivery) {
    await this.#deliveries.replaceOne({ _id: d.id, org_id }, { ...d, open: !(d.delivered_at || d.abandoned_at) });
  }

  async listDeliveries(org_id: string, approval_id: string) {
    return (await this.#deliveries.find({ org_id, approval_id }).sort({ _id: 1 }).toArray()).map((d) => strip(d) as WebhookDelivery);
  }
}
