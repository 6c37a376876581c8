// Metrics that the rest of Writ already states on the record: the composition root wraps three
// store ports, so exchange outcomes, refreshes and revocations are counted from the audit events
// they write, and lease contention from the vault's lease answers, without touching those rooms.

import type { WritStore } from '../storage/index.ts';
import type { AuditRecord, AuditStore } from '../storage/ports/audit.ts';
import type { GrantStore } from '../storage/ports/grants.ts';
import type { VaultStore } from '../storage/ports/vault.ts';
import type { Metrics } from './metrics.ts';

const str = (v: unknown) => (typeof v === 'string' && v.length <= 64 ? v : undefined);

/** Maps one written audit event onto the counters it stands for. */
export function countAuditEvent(metrics: Metrics, event: Pick<AuditRecord, 'type' | 'details'>): void {
  switch (event.type) {
    case 'token.exchanged': {
      const version = str(event.details.policy_version);
      metrics.observeExchange('issued', version);
      if (version) metrics.observePolicyDecision('allow', version);
      break;
    }
    case 'token.exchange_denied': {
      const version = str(event.details.policy_version);
      metrics.observeExchange(str(event.details.error) ?? 'denied', version);
      // A refusal before the policy ran (wider than the delegation) carries no version: no decision.
      if (version) metrics.observePolicyDecision('deny', version);
      break;
    }
    case 'credential.refreshed': metrics.observeRefresh('ok'); break;
    case 'credential.refresh_failed': metrics.observeRefresh('failed'); break;
    case 'account.revoked': metrics.observeRefresh('revoked'); metrics.observeRevocation('account_upstream'); break;
    case 'account.disconnected': metrics.observeRevocation('account'); break;
    case 'grant.revoked': metrics.observeRevocation('grant'); break;
  }
}

function observeAudit(port: AuditStore, metrics: Metrics): AuditStore {
  return {
    async appendAudit(org_id, build) {
      const written = await port.appendAudit(org_id, build);
      countAuditEvent(metrics, written);
      return written;
    },
    queryAudit: (org_id, query) => port.queryAudit(org_id, query),
    scanAudit: (org_id, afterSeq, limit) => port.scanAudit(org_id, afterSeq, limit),
  };
}

/** Revocations write their audit events inside the grants port's own commit: count them once it is committed. */
function observeGrants(port: GrantStore, metrics: Metrics): GrantStore {
  return new Proxy(port, {
    get(target, prop, receiver) {
      const value = Reflect.get(target, prop, receiver);
      if (prop !== 'endAuthority' || typeof value !== 'function') return typeof value === 'function' ? value.bind(target) : value;
      return async (...[org_id, what, at, publish]: Parameters<GrantStore['endAuthority']>) => {
        // The store may build a publication more than once (a retried transaction): the last one counts.
        let built: AuditRecord[] = [];
        const ended = await target.endAuthority(org_id, what, at, (e) => {
          const publication = publish(e);
          built = [];
          return { ...publication, audit: publication.audit.map((build) => (head) => { const record = build(head); built.push(record); return record; }) };
        });
        for (const record of built) countAuditEvent(metrics, record);
        return ended;
      };
    },
  });
}

function observeVault(port: VaultStore, metrics: Metrics): VaultStore {
  return new Proxy(port, {
    get(target, prop, receiver) {
      const value = Reflect.get(target, prop, receiver);
      if (prop !== 'acquireLease' || typeof value !== 'function') return typeof value === 'function' ? value.bind(target) : value;
      return async (...args: Parameters<VaultStore['acquireLease']>) => {
        const taken = await target.acquireLease(...args);
        if (!taken) metrics.observeLeaseContention('refresh');
        return taken;
      };
    },
  });
}

/** The same store, with the audit and vault ports reporting to `metrics`. */
export function observeStore(store: WritStore, metrics: Metrics): WritStore {
  const audit = observeAudit(store.audit, metrics);
  const vault = observeVault(store.vault, metrics);
  const grants = observeGrants(store.grants, metrics);
  return new Proxy(store, {
    get(target, prop, receiver) {
      if (prop === 'audit') return audit;
      if (prop === 'grants') return grants;
      if (prop === 'vault') return vault;
      const value = Reflect.get(target, prop, receiver);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
}

/**
 * The executor's per-call report, labelled by tool only once the tool is known to exist and the
 * caller proved a capability: otherwise anyone could mint a label per made-up tool name.
 */
export function executionObserver(metrics: Metrics) {
  return (tool: string, outcome: string, seconds: number): void => {
    const known = outcome !== 'unknown_tool' && outcome !== 'invalid_token';
    metrics.observeExecution(known ? tool : '(unverified)', outcome, seconds);
  };
}
