import type { AuditRecord } from '../storage/ports/audit.ts';

// Audit export for SIEMs: Writ's own events as JSON lines, or mapped to OCSF 1.x "API Activity"
// (class_uid 6003, category 6 Application Activity), one event per line.

const ACTIVITY: Record<string, { id: number; name: string }> = {
  create: { id: 1, name: 'Create' },
  read: { id: 2, name: 'Read' },
  update: { id: 3, name: 'Update' },
  delete: { id: 4, name: 'Delete' },
  other: { id: 99, name: 'Other' },
};

function activityOf(type: string) {
  if (/\.(created|connected|exchanged|pending|registered|configured)$/.test(type)) return ACTIVITY.create!;
  if (/\.(revoked|deleted|disconnected)$/.test(type)) return ACTIVITY.delete!;
  if (/\.(refreshed|rotated|master_key_rotated|spent)$/.test(type)) return ACTIVITY.update!;
  if (type === 'tool.executed') return ACTIVITY.read!;
  return ACTIVITY.other!;
}

const refused = (type: string) => /denied|failed|locked/.test(type);

export function toOcsf(e: AuditRecord): Record<string, unknown> {
  const activity = activityOf(e.type);
  const actor = e.actor as { kind?: string; user_id?: string; agent_id?: string; chain?: string[] };
  const subject = e.subject as { user_id?: string; tool?: string; grant_id?: string; capability_id?: string };
  const outcome = e.details.outcome;
  const failed = refused(e.type) || (typeof outcome === 'string' && outcome !== 'ok');
  return {
    class_uid: 6003,
    class_name: 'API Activity',
    category_uid: 6,
    category_name: 'Application Activity',
    activity_id: activity.id,
    activity_name: activity.name,
    type_uid: 6003 * 100 + activity.id,
    time: Date.parse(e.at),
    severity_id: failed ? 3 : 1,
    status_id: failed ? 2 : 1,
    status: failed ? 'Failure' : 'Success',
    message: e.type,
    metadata: { version: '1.1.0', uid: e.id, product: { name: 'Writ', vendor_name: 'Writ' }, log_name: e.org_id, sequence: e.seq },
    actor: {
      user: actor.user_id ? { uid: actor.user_id, type: 'User' } : actor.agent_id ? { uid: actor.agent_id, type: 'Service' } : { type: actor.kind ?? 'System' },
      ...(actor.chain ? { authorizations: actor.chain.map((uid) => ({ decision: 'delegated', policy: { uid } })) } : {}),
    },
    api: { operation: subject.tool ?? e.type, service: { name: 'writ' } },
    ...(subject.user_id ? { user: { uid: subject.user_id } } : {}),
    resources: [subject.grant_id && { uid: subject.grant_id, type: 'grant' }, subject.capability_id && { uid: subject.capability_id, type: 'capability' }].filter(Boolean),
    unmapped: { org_id: e.org_id, type: e.type, subject: e.subject, details: e.details, hash: e.hash, prev_hash: e.prev_hash },
  };
}
