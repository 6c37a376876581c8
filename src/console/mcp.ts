// The console's "MCP clients" page: whether the org accepts external MCP clients (clients of no
// org, by metadata document or registration), which ones, and the tools they may ever be granted.

import type { AgentRecord, McpOrgSettings } from '../storage/index.ts';
import { html, table, when, type SafeHtml } from '../web/html.ts';
import type { Frame } from './views.ts';

export interface McpView {
  frame: Frame;
  settings: Omit<McpOrgSettings, 'updated_at'> & { updated_at?: string };
  /** The org's agents for external clients (`mcp_…`), made at each client's first consent. */
  clients: AgentRecord[];
  notice?: string | undefined;
  error?: string | undefined;
}

const ACCEPT: Array<[McpOrgSettings['accept'], string]> = [
  ['none', 'No external MCP client'],
  ['any', 'Any MCP client a person of this organisation approves'],
  ['listed', 'Only the clients listed below'],
];

export function mcpPage(v: McpView): SafeHtml {
  const f = v.frame;
  const s = v.settings;
  return html`
    <h1>${f.org.name}: MCP clients</h1>
    ${v.notice ? html`<p role="status">${v.notice}</p>` : ''}
    ${v.error ? html`<p class="error" role="alert">${v.error}</p>` : ''}
    <p class="muted">MCP clients belong to no organisation: a person who signs in to one names theirs, and this page
      decides whether it may act for them here. On its first approval a client becomes an agent of this organisation,
      with the tools below as its ceiling.</p>
    <form method="post" action="/console/mcp">
      <input type="hidden" name="csrf" value="${f.csrf}">
      <fieldset>
        <legend>Which MCP clients are accepted</legend>
        ${ACCEPT.map(([value, label]) => html`<label><input type="radio" name="accept" value="${value}"${s.accept === value ? html` checked` : ''}> ${label}</label>`)}
      </fieldset>
      <label for="clients">Listed clients: one client id (its metadata document URL, or a registered id) or host per line</label>
      <textarea id="clients" name="clients" rows="4">${s.clients.join('\n')}</textarea>
      <label for="tools">Tools MCP clients may ever be granted: one tool name per line</label>
      <textarea id="tools" name="tools" rows="6">${s.tools.join('\n')}</textarea>
      <button type="submit">Save</button>
    </form>
    ${s.updated_at ? html`<p class="muted">Last changed ${when(s.updated_at, f.now)}.</p>` : ''}

    <section aria-labelledby="mcp-clients">
      <h2 id="mcp-clients">MCP clients people have approved</h2>
      ${v.clients.length === 0 ? html`<p>None yet.</p>` : table(v.clients, [
        { label: 'Client', rowHeader: true, cell: (a) => html`${a.name}<br><code>${a.client_id}</code>` },
        { label: 'Tools', cell: (a) => a.tools.join(', ') },
        { label: 'First approved', cell: (a) => when(a.created_at, f.now) },
      ], { caption: `${v.clients.length} client${v.clients.length === 1 ? '' : 's'}` })}
    </section>`;
}
