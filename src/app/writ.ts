import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { hkdfSync } from 'node:crypto';
import Koa from 'koa';
import { accountRoutes } from '../as/account.ts';
import { consoleRoutes } from '../console/routes.ts';
import { interactionRoutes } from '../as/interactions.ts';
import { mcpInteractionRoutes } from '../as/mcp-interactions.ts';
import { mcpRoutes } from '../mcp/server.ts';
import { mcpAdminRoutes } from '../admin/mcp.ts';
import { SignIn } from '../as/signin.ts';
import { authorizationServer } from '../as/server.ts';
import { adminRoutes, SYSTEM_ORG } from '../admin/routes.ts';
import { AuditLog } from '../audit/log.ts';
import type { Config } from '../config/load.ts';
import { systemClock, type Clock } from '../core/clock.ts';
import { createLogger, type Logger } from '../core/log.ts';
import { GrantService } from '../grants/service.ts';
import { KeyManager, type Sealer } from '../keys/manager.ts';
import type { WritStore } from '../storage/index.ts';
import { openSqliteStore } from '../storage/sqlite/index.ts';
import { open, parseMasterKeyRing, seal } from '../vault/crypto.ts';
import { SessionCodec } from '../web/session.ts';
import { acceptedAudiences } from '../exchange/audiences.ts';
import { watchPolicies, type PolicyWatcher } from '../policy/index.ts';
import { LocalKeyProvider } from '../vault/crypto.ts';
import { Vault } from '../vault/service.ts';
import { CredentialRefresher, type VaultEvent } from '../vault/refresh.ts';
import { ConnectorCatalog } from '../connectors/catalog.ts';
import { createVerifier } from '../verifier/index.ts';
import { warmUpBiscuit } from '../capability/biscuit-warm-up.ts';
import { keySourceOf } from '../capability/sources.ts';
import { executorRoutes } from '../executor/routes.ts';
import { revocationsCheckedInStore } from '../executor/pipeline.ts';
import { connectLink, connectRoutes, newConnectionLink, userConnections } from '../connect/routes.ts';
import { accountAdminRoutes } from '../admin/accounts.ts';
import { identityProviderAdminRoutes } from '../admin/identity-provider.ts';
import { SingleSignOn } from '../sso/service.ts';
import { IdentityAssertions } from '../sso/id-jag.ts';
import { BackchannelLogout } from '../sso/logout.ts';
import { FlowSealer } from '../sso/flow.ts';
import { ssoRoutes } from '../sso/routes.ts';
import { adminGuard } from '../admin/guard.ts';
import { lifecycleAdminRoutes } from '../admin/lifecycle.ts';
import { evidenceAdminRoutes } from '../admin/evidence.ts';
import { Lifecycle } from '../lifecycle/service.ts';
import { scimRoutes } from '../scim/routes.ts';
import { Checkpoints } from '../audit/checkpoints.ts';
import { checkpointRoutes } from '../audit/routes.ts';
import { SiemDelivery } from '../audit/siem.ts';
import { RevocationFeed } from '../revocation/feed.ts';
import { revocationRoutes } from '../revocation/routes.ts';
import { ApprovalService } from '../approvals/service.ts';
import { WebhookDispatcher } from '../approvals/webhooks.ts';
import { approvalPages } from '../approvals/pages.ts';
import { approvalAdminRoutes } from '../approvals/admin.ts';
import { Ciba } from '../as/ciba.ts';
import { errorBoundary, pageMethodErrors, pagesNotFound, requestLog, securityHeaders } from '../web/middleware.ts';
import { accountNav, serveStylesheet } from '../web/html.ts';
import { nav as consoleNav } from '../console/views.ts';
import { refuseCrossSite } from '../web/cross-site.ts';
import { createMetrics, type Metrics } from '../ops/metrics.ts';
import { executionObserver, observeStore } from '../ops/observe.ts';
import { openApiDocument } from '../ops/openapi.ts';
import { countRequests, opsRoutes } from '../ops/routes.ts';
import { trackRequests } from '../ops/shutdown.ts';

export interface WritOptions {
  logger?: Logger;
  clock?: Clock;
  /** An already-open store (tests, several servers on one store); otherwise opened from config. */
  store?: WritStore;
  /** How long close() lets in-flight requests finish before cutting them (ms, default 10 000). */
  drainTimeoutMs?: number;
  /** Outbound fetch for client metadata documents (a test's own trust store); default the global fetch. */
  metadataFetch?: typeof fetch;
}

export interface RunningWrit {
  issuer: string;
  /** The executor's resource identifier, the default capability audience. */
  executorResource: string;
  port: number;
  server: Server;
  store: WritStore;
  keys: KeyManager;
  audit: AuditLog;
  /** Prometheus counters; the executor reports executions here. */
  metrics: Metrics;
  /** Every route of the pages people use, as their routers declare them (the page tests open each GET). */
  pageRoutes: Array<{ method: string; path: string }>;
  close(): Promise<void>;
}

async function openStore(config: Config): Promise<WritStore> {
  // The driver is loaded only when used: it costs tens of megabytes of memory.
  if (config.store === 'mongodb') return (await import('../storage/mongodb/index.ts')).openMongoStore(config.mongodbUri!);
  return openSqliteStore(config.dataDir);
}

/** The composition root: opens the store, loads keys, wires every room and starts listening. */
export async function startWrit(config: Config, options: WritOptions = {}): Promise<RunningWrit> {
  const clock = options.clock ?? systemClock;
  const logger = options.logger ?? createLogger({ level: config.env.WRIT_LOG_LEVEL });
  const metrics = createMetrics();
  const store = observeStore(options.store ?? (await openStore(config)), metrics);

  if (config.generatedSecrets.length) {
    logger.warn('generated development secrets; set WRIT_ADMIN_TOKEN and WRIT_MASTER_KEY for real deployments', { files: config.generatedSecrets });
  } else if (config.storedSecrets.length) {
    logger.warn('using development secrets from the data dir', { files: config.storedSecrets });
  }

  const ring = parseMasterKeyRing(config.masterKey);
  const sealer: Sealer = {
    seal: (plaintext, aad) => seal(ring, plaintext, aad),
    open: (sealed, aad) => open(ring, sealed, aad).toString('utf8'),
  };
  const keys = new KeyManager(store.keys, sealer, clock);
  await keys.init();
  // The exchange and the executor authorise Biscuits from the first request on.
  await warmUpBiscuit();

  const derive = (purpose: string, version = ring.current) => Buffer.from(hkdfSync('sha256', ring.key(version)!, Buffer.alloc(0), `writ:${purpose}`, 32));
  // Cookies are signed with the current master version and still verify under the older ones.
  const cookieKeys = [ring.current, ...ring.versions().filter((v) => v !== ring.current)].map((v) => derive('cookies', v).toString('base64url'));
  const sessions = new SessionCodec(derive('sessions'));

  const audit = new AuditLog(store.audit, clock);
  const grantService = new GrantService(store.grants, store.oidc, audit, clock);
  const revocations = new RevocationFeed(store.revocationFeed, clock);
  grantService.publishOn(revocations);
  const policies: PolicyWatcher = await watchPolicies(config.policiesDir, {
    logger,
    onReload: (outcome) => {
      metrics.observePolicyReload(!outcome.ok ? 'failed' : outcome.changed ? 'changed' : 'unchanged');
      metrics.setPolicyVersion(outcome.policies.version);
    },
  });
  metrics.setPolicyVersion(policies.current().version);
  // How each org signs in (passwords, its identity provider) is the single sign-on room's answer, made below.
  const signIn = new SignIn(store.directory, audit, clock, undefined, {
    methods: (org_id) => sso.methods(org_id),
    endSessionUrl: (org_id, after) => sso.endSessionUrl(org_id, after),
  });

  // Human approval of one call (OpenID CIBA): the requests, each org's signed webhook, the agent's
  // ping (through the authorization server, once it exists).
  const webhooks = new WebhookDispatcher({
    store: store.approvals, clock, signer: () => keys.capabilitySigningKey, allowPrivateHosts: config.allowPrivateEgress,
    onError: (message, err) => logger.warn(message, { err }),
  });
  const approvals: ApprovalService = new ApprovalService({
    store: store.approvals, audit, clock, sealer, webhooks, grants: store.grants,
    notify: (record, auth_req_id): Promise<void> => ciba.notify(record, auth_req_id), onError: (message, err) => logger.warn(message, { err }),
  });
  const ciba: Ciba = new Ciba({ approvals, directory: store.directory, grants: store.grants });

  const server = createServer();
  // Revocation-feed long polls are cut at shutdown; their followers poll again elsewhere.
  const inFlight = trackRequests(server, { interruptible: (req) => req.url?.startsWith('/v1/revocations') === true });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(config.port, config.host, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  const issuer = config.issuer ?? `http://localhost:${port}`;
  const secureCookies = issuer.startsWith('https://');

  // The executor's resource identifier (RFC 8707/9728): the default audience of capabilities.
  const executorResource = `${issuer}/executor`;
  // The executor as an MCP server has a resource identifier of its own (RFC 8707, RFC 9728).
  const mcpResource = `${issuer}/mcp`;
  const audiences = acceptedAudiences(store.directory, executorResource);
  const authorization = authorizationServer({
    issuer, executorResource, directory: store.directory, grants: store.grants, oidc: store.oidc, jwks: keys.providerJwks, cookieKeys,
    accessTokenTtl: config.env.WRIT_ACCESS_TOKEN_TTL, refreshTokenTtl: config.env.WRIT_REFRESH_TOKEN_TTL, clock, logger,
    replay: store.replay, capabilities: store.capabilities, grantService,
    exchange: {
      audit, keys, policies: () => policies.current(), isAudience: audiences,
      // A capability recorded after its user or an agent of its chain was disabled: the sweep again.
      endAuthority: (org_id, target, reason) => grantService.end(org_id, target, { kind: 'system' }, reason),
    },
    publicKeys: () => ({ jwks: keys.publicJwks.keys, biscuit: keys.biscuitPublicKeys }),
    revocationFeedEndpoint: `${issuer}/v1/revocations`,
    // Cross-app access: ID-JAGs from an org's own identity provider, and the ones Writ issues (made below).
    sensitiveMaxAge: async (org_id) => (await store.sso.getIdentityProvider(org_id))?.sensitive_max_age,
    identityAssertions: {
      accept: { accept: (org_id, client_id, assertion) => identityAssertions.accept(org_id, client_id, assertion) },
      crossApp: (org_id) => store.sso.getCrossAppPolicy(org_id),
    },
    ciba,
    // External MCP clients; the MCP resource's scopes are the catalog's tools (made below).
    mcp: {
      mcpResource, settings: store.mcp, grantService, egress: { allowPrivateHosts: config.allowPrivateEgress },
      toolScopes: async () => (await catalog.listTools('')).map((t) => `tool:${t.name}`),
      ...(options.metadataFetch ? { fetch: options.metadataFetch } : {}),
    },
  });
  const { provider } = authorization;

  // The vault, the connector catalog and the executor (DESIGN flows 5–7).
  const vault = new Vault({ store: store.vault, keys: new LocalKeyProvider(ring), clock });
  // Single sign-on per org: its provider's client secret or key sealed with the org's data key.
  const sso = new SingleSignOn({ store: store.sso, directory: store.directory, audit, secrets: vault, clock, issuer, allowPrivateHosts: config.allowPrivateEgress });
  const identityAssertions = new IdentityAssertions({
    store: store.sso, directory: store.directory, replay: store.replay, audit, clock, issuer, keys: (idp) => sso.keysOf(idp),
  });
  const catalog = new ConnectorCatalog({
    vault, orgConnectors: store.orgConnectors, clock, demoProviderUrl: config.env.WRIT_DEMO_PROVIDER_URL, oauthClients: config.connectorClients,
    endpoints: config.connectorEndpoints, egress: { allowPrivateHosts: config.allowPrivateEgress },
  });
  // Every tool an org can run, for the agent ceilings the admin API writes.
  const knownTools = async (org_id: string) => (await catalog.listTools(org_id)).map((t) => t.name);
  // User and agent lifecycle: every end of authority through the grants' one transaction.
  const lifecycle = new Lifecycle({ directory: store.directory, oidc: store.oidc, grants: grantService, vault, catalog, audit, clock });
  grantService.checkHoldersWith(lifecycle.holderCheck);
  // Approvals pending for a user who is disabled or deleted end with them: denied, the cause on the
  // record, counted in the lifecycle's one event; the agent's next poll answers access_denied.
  lifecycle.onUserEnded(async (org_id, user_id, _at, { cause, reason }) => ({
    pending_approvals_denied: await approvals.endForUser(org_id, user_id, reason, cause),
  }));
  // A deleted user's single sign-on identity links go too (a disabled user keeps them, to be found
  // and refused); the same provider account signing in later is a new user.
  lifecycle.onUserEnded(async (org_id, user_id, _at, { deleted }): Promise<Record<string, number>> => (deleted ? { identity_links_removed: await sso.forgetUser(org_id, user_id) } : {}));
  // Audit evidence: signed checkpoints of each org's chain, and each org's SIEM stream.
  const checkpoints = new Checkpoints(store.checkpoints, store.audit, sealer, clock);
  const siem = new SiemDelivery({ store: store.siem, audit: store.audit, checkpoints, clock, logger });
  const auditVaultEvent = (event: VaultEvent) => {
    const { type, org_id, account_id, connector, ...details } = event;
    void audit.record(org_id, { type, actor: { kind: 'system' }, subject: { account_id, connector }, details })
      .catch((err: unknown) => logger.error('audit write failed', { err }));
  };
  const refresher = new CredentialRefresher({
    vault, clock, onEvent: auditVaultEvent,
    resolveProvider: (org_id, account) => catalog.oauthProvider(org_id, account.connector),
  });
  // The executor verifies with the library downstream services use, its keys read in this process
  // from the key manager (a rotation is seen at once); revocation is read from the store on every
  // call by the pipeline's own step, so the verifier follows no feed.
  const verifier = createVerifier({
    issuer, audience: executorResource, clock,
    keys: keySourceOf(keys), revocations: revocationsCheckedInStore,
    // DPoP proof ids are claimed in the store, so a proof is accepted once across every worker.
    replayStore: store.replay,
    onError: (err) => logger.warn('executor verifier', { err }),
  });

  const executorDeps = {
    executorResource, clock, logger, verifier, capabilities: store.capabilities, grants: store.grants, catalog, vault, refresher, audit,
    connectUrl: (org_id: string, connector: string) => newConnectionLink(issuer, org_id, connector),
    reconnectUrl: (org_id: string, account_id: string) => connectLink(issuer, org_id, account_id),
    onOutcome: executionObserver(metrics), timeoutMs: config.env.WRIT_EXECUTOR_TIMEOUT_MS,
  };

  const app = new Koa();
  app.keys = cookieKeys;
  app.proxy = false;
  app.silent = true;
  app.use(requestLog(logger));
  app.use(countRequests(metrics));
  app.use(securityHeaders);
  app.use(errorBoundary(logger));
  // The one stylesheet of the pages people use, from this origin (their CSP allows styles from 'self' only).
  app.use(serveStylesheet);
  app.use(adminGuard(config.adminToken));
  // SCIM 2.0 answers everything under /scim/v2/ itself, errors in SCIM's shape.
  app.use(scimRoutes({ issuer, store, lifecycle, audit, clock }));

  // The pages people use, behind one check that refuses a state-changing request from another
  // site (DESIGN invariant 10); the protocol and API endpoints are for programs and stay outside it.
  const pages = [
    ...approvalPages({
      approvals, directory: store.directory, sessions, clock,
      confirmPassword: async (user, password, ip) => (await signIn.attempt(user.org_id, user.username, password, { ip })).ok,
      // The header of the account's pages or of the console's, as on every other page of each.
      nav: async ({ session, user }, path) => {
        const org = await store.directory.getOrg(user.org_id);
        if (!org) return undefined;
        const accountCsrf = sessions.csrf('account', session.sid);
        return path === '/console/approvals'
          ? consoleNav({ org, admin: user, accountCsrf }, 'approvals')
          : accountNav(path, { username: user.username, orgName: org.name, admin: user.roles.includes('admin') }, accountCsrf);
      },
    }),
    ssoRoutes({
      sso, flows: new FlowSealer(derive('sso-flow')), sessions, clock, issuer, secureCookies,
      logout: new BackchannelLogout({ store: store.sso, oidc: store.oidc, replay: store.replay, audit, clock, keys: (idp) => sso.keysOf(idp) }),
    }),
    connectRoutes({ issuer, directory: store.directory, vault, catalog, sessions, audit, secureCookies, clock }),
    // External MCP clients' sign-in and consent, ahead of the agents' own on the same URLs.
    mcpInteractionRoutes({
      provider, directory: store.directory, grants: store.grants, settings: store.mcp, grantService, audit, signIn, sessions, secureCookies,
      refreshDays: Math.round(config.env.WRIT_REFRESH_TOKEN_TTL / 86400), now: () => clock.now(),
    }),
    interactionRoutes({ provider, directory: store.directory, grantService, audit, signIn, sessions, issuer, secureCookies, refreshDays: Math.round(config.env.WRIT_REFRESH_TOKEN_TTL / 86400) }),
    accountRoutes({ directory: store.directory, grants: store.grants, grantService, signIn, sessions, secureCookies, clock, connections: userConnections({ vault, catalog, audit }) }),
    consoleRoutes({
      directory: store.directory, grants: store.grants, vault: store.vault, grantService, audit, sessions, policies: () => policies.current(), executorResource, clock,
      reconnectUrl: (account) => connectLink(issuer, account.org_id, account.id), lifecycle, sso, mcpSettings: store.mcp,
    }),
  ];
  const pagePrefixes = pages.map((router) => router.opts.prefix ?? '/');
  app.use(refuseCrossSite(issuer, pagePrefixes));
  app.use(pagesNotFound(pagePrefixes));
  for (const router of [
    adminRoutes({ adminToken: config.adminToken, store, audit, grantService, keys, clock, policies: () => policies.current(), executorResource, vault, knownTools }),
    revocationRoutes(revocations),
    identityProviderAdminRoutes({ directory: store.directory, sso }),
    approvalAdminRoutes({ approvals, directory: store.directory, audit, clock, allowPrivateHosts: config.allowPrivateEgress }),
    lifecycleAdminRoutes({ store, lifecycle, audit, clock, knownTools }),
    evidenceAdminRoutes({ store, audit, checkpoints, siem, clock }),
    checkpointRoutes(checkpoints, async (org_id) => org_id === SYSTEM_ORG || (await store.directory.getOrg(org_id)) !== undefined),
    mcpAdminRoutes({ directory: store.directory, settings: store.mcp, audit, clock }),
    accountAdminRoutes({ store, vault, catalog, audit, issuer, connectLink: (org_id, account_id) => connectLink(issuer, org_id, account_id) }),
    executorRoutes({ issuer, ...executorDeps }),
    // The executor as an MCP server, protected by this authorization server.
    mcpRoutes({
      issuer, mcpResource, executorResource, catalog, grants: store.grants, executor: executorDeps,
      resolveToken: authorization.resolveResourceToken, exchange: authorization.exchange, now: () => clock.now(),
    }),
    ...pages,
  ]) {
    app.use(router.routes());
    app.use(router.allowedMethods(pages.includes(router) ? pageMethodErrors : {}));
  }
  const openapi = openApiDocument(issuer);
  app.use(opsRoutes({ metrics, ping: () => store.ping(), keysLoaded: () => keys.publicJwks.keys.length > 0, openapi: () => openapi }));
  // The authorization server last: discovery, JWKS, introspection and oidc-provider's endpoints.
  app.use(authorization.middleware);

  server.on('request', app.callback());
  webhooks.start();
  approvals.start();
  logger.info('writ listening', { issuer, port, store: store.kind });

  const pageRoutes = pages.flatMap((router) => router.stack.flatMap((layer) => layer.methods.filter((m) => m !== 'HEAD').map((method) => ({ method, path: String(layer.path) }))));
  // Checkpoints at an interval (only orgs whose chain grew get a new one) and SIEM deliveries.
  const evidenceTimers: NodeJS.Timeout[] = [];
  if (config.env.WRIT_AUDIT_CHECKPOINT_INTERVAL > 0) {
    evidenceTimers.push(setInterval(() => {
      void (async () => {
        for (const org of [...(await store.directory.listOrgs()).map((o) => o.id), SYSTEM_ORG]) await checkpoints.checkpoint(org);
      })().catch((err: unknown) => logger.error('audit checkpoint failed', { err }));
    }, config.env.WRIT_AUDIT_CHECKPOINT_INTERVAL * 1000));
  }
  if (config.env.WRIT_SIEM_INTERVAL > 0) {
    evidenceTimers.push(setInterval(() => { void siem.run().catch((err: unknown) => logger.error('siem delivery run failed', { err })); }, config.env.WRIT_SIEM_INTERVAL * 1000));
  }
  for (const t of evidenceTimers) t.unref();

  return {
    issuer, executorResource, port, server, store, keys, audit, metrics, pageRoutes,
    async close() {
      for (const t of evidenceTimers) clearInterval(t);
      verifier.close();
      revocations.close();
      policies.close();
      await approvals.close();
      await webhooks.close();
      // Stop accepting, let in-flight requests finish, then close the store nothing can reach any more.
      const drained = await inFlight.drain(options.drainTimeoutMs ?? 10_000);
      if (!drained) logger.warn('shutdown cut requests that were still running', { timeout_ms: options.drainTimeoutMs ?? 10_000 });
      if (!options.store) await store.close();
    },
  };
}
