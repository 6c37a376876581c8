// The console's "Users and agents" page: the lifecycle for an org admin, without JavaScript.

import type { AgentRecord, UserRecord } from '../storage/index.ts';
import { html, table, when, type SafeHtml } from '../web/html.ts';
import type { Frame } from './views.ts';

export interface PeopleView {
  frame: Frame;
  users: UserRecord[];
  agents: AgentRecord[];
  notice?: string | undefined;
}

/** One lifecycle button in its own form: POST with the console's CSRF token. */
function action(frame: Frame, path: string, label: string, aria: string, danger = false): SafeHtml {
  return html`<form method="post" action="${path}" class="inline">
    <input type="hidden" name="csrf" value="${frame.csrf}">
    <button type="submit"${danger ? html` class="danger"` : ''} aria-label="${aria}">${label}</button>
  </form>`;
}

export function peoplePage(v: PeopleView): SafeHtml {
  const f = v.frame;
  const status = (r: { disabled_at?: string | undefined }) => (r.disabled_at ? html`<strong>disabled</strong> ${when(r.disabled_at, f.now)}` : 'active');
  return html`
    <h1>${f.org.name}: users and agents</h1>
    ${v.notice ? html`<p role="status">${v.notice}</p>` : ''}
    <p class="muted">Disabling a user ends their sessions, every grant and every token derived from it, and their connected accounts (revoked at the provider) at once; disabling an agent ends every grant and token it holds or that was delegated through it. Enabling again brings none of that back.</p>

    <section aria-labelledby="users">
      <h2 id="users">Users</h2>
      ${table(v.users, [
        { label: 'User', rowHeader: true, cell: (u) => html`${u.display_name ?? u.username}<br><code>${u.username}</code>` },
        { label: 'Roles', cell: (u) => u.roles.join(', ') },
        { label: 'Status', cell: status },
        { label: 'Action', actions: true, cell: (u) => u.id === f.admin.id ? html`<span class="muted">you</span>` : html`
          ${u.disabled_at
            ? action(f, `/console/users/${encodeURIComponent(u.id)}/enable`, 'Enable', `Enable user ${u.username}`)
            : action(f, `/console/users/${encodeURIComponent(u.id)}/disable`, 'Disable', `Disable user ${u.username}`, true)}
          ${action(f, `/console/users/${encodeURIComponent(u.id)}/delete`, 'Delete', `Delete user ${u.username}`, true)}` },
      ], { caption: `${v.users.length} user${v.users.length === 1 ? '' : 's'}` })}
    </section>

    <section aria-labelledby="lifecycle-agents">
      <h2 id="lifecycle-agents">Agents</h2>
      ${v.agents.length === 0 ? html`<p>No agents are registered in this organisation.</p>` : table(v.agents, [
        { label: 'Agent', rowHeader: true, cell: (a) => html`${a.name}<br><code>${a.client_id}</code>` },
        { label: 'Status', cell: status },
        { label: 'Action', actions: true, cell: (a) => html`
          ${a.disabled_at
            ? action(f, `/console/agents/${encodeURIComponent(a.client_id)}/enable`, 'Enable', `Enable agent ${a.name}`)
            : action(f, `/console/agents/${encodeURIComponent(a.client_id)}/disable`, 'Disable', `Disable agent ${a.name}`, true)}
          ${action(f, `/console/agents/${encodeURIComponent(a.client_id)}/delete`, 'Delete', `Delete agent ${a.name}`, true)}` },
      ], { caption: `${v.agents.length} agent${v.agents.length === 1 ? '' : 's'}` })}
    </section>`;
}
