// Every audit event Writ writes, in one typed table. docs/events.md is generated from it.

export const AUDIT_EVENTS = {
  'org.created': 'An organisation was created through the admin API.',
  'mcp.settings_updated': 'An org admin set whether the organisation accepts external MCP clients, which ones, and their ceiling.',
  'org.offboarded': 'An organisation was offboarded: grants revoked, agents removed, its vault crypto-shredded.',
  'user.created': 'A user was added to an organisation.',
  'agent.created': 'An agent (OAuth client) was registered, with its tool ceiling.',
  'agent.deleted': 'An agent was deleted; every grant it held, and every capability it held or that was delegated through it, was revoked with it.',
  'resource_server.registered': 'A downstream resource server was registered as a token-exchange audience.',
  'signin.failed': 'A sign-in attempt failed (unknown user or wrong password). The username is recorded, never the password.',
  'signin.locked': 'Repeated failures locked sign-in for a username for a while.',
  'signin.succeeded': 'A user signed in to Writ.',
  'consent.denied': 'A user refused a consent request.',
  'grant.created': 'A user (or an org admin, for org-level tools) delegated tools to an agent.',
  'grant.revoked': 'A grant was revoked; every token derived from it stopped working.',
  'keys.rotated': 'A new signing key took over; older keys stay published until their tokens expire.',
  'token.exchanged': 'Token exchange issued a capability.',
  'token.exchange_denied': 'Token exchange refused a request, with the reasons.',
  'capability.spent': 'A single-use capability was used.',
  'capability.revoked': 'A capability was revoked apart from its grant: its holder, or an agent it was delegated through, was deleted.',
  'tool.executed': 'The executor called a provider on behalf of a principal.',
  'tool.denied': 'The executor refused a tool call before reaching the provider.',
  'approval.requested': 'An agent asked a person to approve one call (OpenID CIBA): the tool, the resource and the exact arguments.',
  'approval.approved': 'A person approved a call; the approver, and whether it came through the admin API on their behalf.',
  'approval.denied': 'A person denied a call; the approver and the reason.',
  'approval.expired': 'An approval request waited past its expiry with no decision.',
  'approval.settings_changed': 'An org\'s approval settings changed: webhook, groups of approvers, agents\' CIBA delivery, approval through the admin API.',
  'connector.configured': 'An org registered or configured a connector.',
  'account.pending': 'A connection link was issued for a connected account.',
  'account.connected': 'A provider account was connected and its credential stored in the vault.',
  'account.disconnected': 'A connected account was disconnected and its token revoked where the provider supports it.',
  'account.revoked': 'The provider reported the credential revoked; the account needs reconnecting.',
  'capability.released': 'A single-use capability spent by a tool call that never reached the provider (the account was not connected, the name did not resolve, the connection was refused or its TLS failed) was given back, so it can still be used once.',
  'credential.refreshed': 'A connected account\'s access token was refreshed.',
  'credential.refresh_failed': 'A refresh failed without revoking the account (network or provider error).',
  'vault.master_key_rotated': 'Data keys were re-wrapped under a new master key version.',
} as const;

export type AuditEventType = keyof typeof AUDIT_EVENTS;

export function renderEventsDocs(): string {
  return [
    '# Audit events',
    '',
    '<!-- Generated from src/audit/events.ts by `npm run docs:generate`; do not edit by hand. -->',
    '',
    'Every event is `{ id, at, org_id, seq, type, actor, subject, details, prev_hash, hash }`,',
    'append-only and hash-chained per organisation: `hash = SHA-256(canonical JSON of the event without',
    '`hash`)`, and `prev_hash` is the previous event\'s `hash` (64 zeros for the first). Editing,',
    'deleting or reordering any event breaks every later link.',
    '',
    '| type | meaning |',
    '| --- | --- |',
    ...Object.entries(AUDIT_EVENTS).map(([type, meaning]) => `| \`${type}\` | ${meaning} |`),
    '',
  ].join('\n');
}
