import type { CapabilityClaims } from '../../src/capability/claims.ts';

export const NOW = 1_714_000_000;
export const ISSUER = 'https://writ.test';
export const AUDIENCE = 'https://writ.test/executor';

export function claims(overrides: Partial<CapabilityClaims> = {}): CapabilityClaims {
  return {
    iss: ISSUER,
    aud: AUDIENCE,
    sub: 'usr_01',
    principal: 'user',
    org_id: 'org_01',
    client_id: 'agt_mail',
    act: { sub: 'agt_mail', act: { sub: 'agt_orchestrator' } },
    authorization_details: [
      { type: 'tool_access', tools: ['gmail.messages.send'], resources: ['gmail:mailbox:*'], constraints: { to: { ends_with: '@customer.com' } } },
      { type: 'tool_access', tools: ['notion.pages.read'] },
    ],
    scope: 'tool:gmail.messages.send tool:notion.pages.read',
    auth_event_id: 'grt_01',
    jti: 'cap_01',
    parent_jti: 'at_01',
    iat: NOW,
    exp: NOW + 300,
    ...overrides,
  };
}
