// A third-party MCP server protected by Writ: the MCP TypeScript SDK's server and bearer-auth
// middleware, with @writ/verifier's MCP adapter as its token verifier. Writ is its authorization
// server; an org admin registers it as a resource server (POST /admin/v1/resource-servers) and
// lets MCP clients hold its tool (PUT /admin/v1/orgs/{org}/mcp). Run it with
//   WRIT_ISSUER=https://writ.example PUBLIC_URL=https://docs.example PORT=3001 node docs/examples/mcp-server.ts
// In your own server, import from `@writ/verifier` and `@writ/verifier/mcp` instead of src/.
import express from 'express';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { requireBearerAuth } from '@modelcontextprotocol/sdk/server/auth/middleware/bearerAuth.js';
import { createVerifier } from '../../src/verifier/index.ts';
import { mcpTokenVerifier, protectedResourceMetadata, protectedResourceMetadataUrl } from '../../src/verifier/mcp.ts';

export interface DocsServerOptions {
  /** Writ's issuer URL. */
  issuer: string;
  port?: number;
  /** Where clients reach this server; default http://127.0.0.1:<port>. */
  publicUrl?: string;
}

const PAGES = [
  { title: 'Onboarding', text: 'How new people get their accounts on day one.' },
  { title: 'Expenses', text: 'Receipts are filed within thirty days.' },
];

export async function startDocsServer(options: DocsServerOptions) {
  const app = express();
  const server: Server = await new Promise((resolve) => { const s = app.listen(options.port ?? 0, '127.0.0.1', () => resolve(s)); });
  const base = options.publicUrl ?? `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  // RFC 8707: the resource identifier Writ binds tokens to, and RFC 9728 metadata beside it.
  const resource = `${base}/mcp`;
  const metadataUrl = protectedResourceMetadataUrl(resource);

  const verifier = createVerifier({ issuer: options.issuer, audience: resource });
  // Every request needs the right to call `docs.search`, the one tool this server has.
  const auth = requireBearerAuth({ verifier: mcpTokenVerifier(verifier, { requiredTool: 'docs.search' }), resourceMetadataUrl: metadataUrl });

  app.get(new URL(metadataUrl).pathname, (_req, res) => {
    res.json(protectedResourceMetadata({ resource, issuer: options.issuer, tools: ['docs.search'], name: 'Team docs' }));
  });

  app.post('/mcp', auth, express.json({ limit: '64kb' }), async (req, res) => {
    const mcp = new McpServer({ name: 'team-docs', version: '1.0.0' });
    mcp.registerTool('docs.search', {
      description: 'Search the team\'s pages by words in their title or text.',
      inputSchema: { query: z.string().min(1).max(200) },
    }, async ({ query }, extra) => {
      const found = PAGES.filter((p) => `${p.title} ${p.text}`.toLowerCase().includes(query.toLowerCase()));
      // Who asks, from the verified capability only: the person and the org.
      const who = extra.authInfo?.extra as { sub?: string; org_id?: string } | undefined;
      return { content: [{ type: 'text', text: JSON.stringify({ for: who?.sub, org: who?.org_id, pages: found }) }] };
    });
    // Stateless: one server and transport per request.
    const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined, enableJsonResponse: true });
    res.on('close', () => { void transport.close(); void mcp.close(); });
    await mcp.connect(transport);
    await transport.handleRequest(req, res, req.body);
  });

  return {
    url: base,
    resource,
    async close() {
      verifier.close();
      await new Promise<void>((resolve) => { server.close(() => resolve()); server.closeAllConnections(); });
    },
  };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const started = await startDocsServer({
    issuer: process.env.WRIT_ISSUER ?? 'http://localhost:8080',
    port: Number(process.env.PORT ?? 3001),
    ...(process.env.PUBLIC_URL ? { publicUrl: process.env.PUBLIC_URL } : {}),
  });
  console.log(`team docs MCP server at ${started.resource}`);
}
