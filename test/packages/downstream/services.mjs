// A downstream project's services, in plain JavaScript, using only what it installed: Express,
// Fastify, Koa and Hono services and an MCP server (the MCP TypeScript SDK on Express), each
// protecting one route with @writ/verifier. Copied into the project and run there; prints one JSON line with
// the services' URLs, and stops when its standard input closes.
import express from 'express';
import Fastify from 'fastify';
import Koa from 'koa';
import { Hono } from 'hono';
import { serve } from '@hono/node-server';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { requireBearerAuth } from '@modelcontextprotocol/sdk/server/auth/middleware/bearerAuth.js';
import { createVerifier } from '@writ/verifier';
import * as onExpress from '@writ/verifier/express';
import * as onFastify from '@writ/verifier/fastify';
import * as onKoa from '@writ/verifier/koa';
import * as onHono from '@writ/verifier/hono';
import { mcpTokenVerifier } from '@writ/verifier/mcp';

const { WRIT_ISSUER: issuer, AUDIENCE: audience, TOOL: tool, METADATA: resourceMetadataUrl } = process.env;
const whoFor = (c) => ({ sub: c.sub, principal: c.principal, org: c.org_id, via: c.actor_chain, node: process.version });
const verifiers = [];
const verifier = () => {
  // Each service is its own downstream party: its own keys and feed.
  const v = createVerifier({ issuer, audience, keyRefreshIntervalSec: 0 });
  verifiers.push(v);
  return v;
};

const onExpressApp = express();
onExpressApp.use(express.json());
onExpressApp.post('/notes', onExpress.requireCapability(verifier(), { require: { tool }, resourceMetadataUrl }), (_req, res) => {
  res.json(whoFor(onExpress.capabilityOf(res)));
});
const expressServer = onExpressApp.listen(0, '127.0.0.1');
await new Promise((resolve) => expressServer.once('listening', resolve));

const fastify = Fastify();
fastify.post('/notes', { preHandler: onFastify.requireCapability(verifier(), { require: { tool }, resourceMetadataUrl }) }, async (request) => whoFor(onFastify.capabilityOf(request)));
const fastifyUrl = await fastify.listen({ port: 0, host: '127.0.0.1' });

const koa = new Koa();
const koaRoute = onKoa.requireCapability(verifier(), { tool, resourceMetadataUrl });
koa.use(async (ctx, next) => {
  if (ctx.method !== 'POST' || ctx.path !== '/notes') return next();
  await koaRoute(ctx, async () => { ctx.body = whoFor(ctx.state.capability); });
});
const koaServer = koa.listen(0, '127.0.0.1');
await new Promise((resolve) => koaServer.once('listening', resolve));

const hono = new Hono();
hono.post('/notes', onHono.requireCapability(verifier(), { require: { tool }, resourceMetadataUrl }), (c) => c.json(whoFor(c.get('capability'))));
const honoServer = serve({ fetch: hono.fetch, port: 0, hostname: '127.0.0.1' });
await new Promise((resolve) => honoServer.once('listening', resolve));

const mcpApp = express();
mcpApp.use(express.json());
mcpApp.post('/mcp', requireBearerAuth({ verifier: mcpTokenVerifier(verifier(), { requiredTool: tool }), resourceMetadataUrl: `${resourceMetadataUrl}/mcp` }), async (req, res) => {
  // Stateless: one server and transport per request.
  const server = new McpServer({ name: 'notes', version: '1.0.0' });
  server.registerTool('create_note', { description: 'Create a note' }, async (extra) => ({
    content: [{ type: 'text', text: JSON.stringify({ ...whoFor(extra.authInfo.extra), scopes: extra.authInfo.scopes }) }],
  }));
  const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined });
  res.on('close', () => { void transport.close(); void server.close(); });
  await server.connect(transport);
  await transport.handleRequest(req, res, req.body);
});
const mcpServer = mcpApp.listen(0, '127.0.0.1');
await new Promise((resolve) => mcpServer.once('listening', resolve));

const url = (server) => `http://127.0.0.1:${server.address().port}`;
process.stdout.write(`${JSON.stringify({ express: url(expressServer), fastify: fastifyUrl, koa: url(koaServer), hono: url(honoServer), mcp: `${url(mcpServer)}/mcp` })}\n`);

process.stdin.resume();
process.stdin.on('end', async () => {
  for (const v of verifiers) v.close();
  const servers = [expressServer, koaServer, honoServer, mcpServer];
  for (const server of servers) server.closeAllConnections();
  await Promise.all([...servers.map((server) => new Promise((r) => server.close(r))), fastify.close()]);
  process.exit(0);
});
