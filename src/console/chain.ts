// Who did it, in words an admin reads at a glance: an audit event's actor and its delegation
// chain as "agent C for agent B for agent A, acting for user U of org O".

/** Display names for the ids an event carries; unknown ids are shown as they are. */
export interface Names {
  org: string;
  agent(client_id: string): string;
  user(user_id: string): string;
}

const str = (v: unknown): string | undefined => (typeof v === 'string' && v.length > 0 ? v : undefined);

/** The agents that held the authority, acting agent first (RFC 8693 §4.1 `act` order). */
export function agentChain(actor: Record<string, unknown>): string[] {
  const chain = Array.isArray(actor.chain) ? actor.chain.filter((x): x is string => typeof x === 'string' && x.length > 0) : [];
  const acting = str(actor.agent_id);
  if (acting && chain[0] !== acting) chain.unshift(acting);
  return chain;
}

/** The principal the event was for: a user, or the org itself for org-level grants. */
function principal(subject: Record<string, unknown>, names: Names): string | undefined {
  const user = str(subject.user_id);
  if (user) return `user ${names.user(user)} of org ${names.org}`;
  if (subject.principal === 'org') return `org ${names.org} itself`;
  return undefined;
}

export function describeActor(actor: Record<string, unknown>, subject: Record<string, unknown>, names: Names): string {
  switch (actor.kind) {
    case 'agent': {
      const chain = agentChain(actor);
      const agents = chain.length ? chain.map((a) => `agent ${names.agent(a)}`).join(' for ') : 'an agent';
      const forWhom = principal(subject, names);
      return forWhom ? `${agents}, acting for ${forWhom}` : agents;
    }
    case 'user': {
      const user = str(actor.user_id);
      const who = user ? `user ${names.user(user)}` : 'a user';
      return actor.role === 'admin' ? `${who} (admin, from the console)` : who;
    }
    case 'admin':
      return 'the operator (admin API)';
    case 'system':
      return 'Writ';
    case 'anonymous':
      return 'someone not signed in';
    default:
      return 'unknown';
  }
}
