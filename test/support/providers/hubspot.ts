// A local HubSpot: OAuth as HubSpot does it (`/oauth/authorize` with space-separated scopes;
// `POST /oauth/v1/token` with the client secret in the form; access tokens for 30 minutes with a
// refresh token) and the CRM v3 contacts API (`POST /crm/v3/objects/contacts`, `GET
// /crm/v3/objects/contacts/{id}?properties=`, `POST /crm/v3/objects/contacts/search`). Errors are
// HubSpot's `{ status: "error", message, category }`. Consent: the shared sign-in form (see
// base.ts); whoever signs in is the portal user the token acts as.
import { randomBytes } from 'node:crypto';
import {
  AuthorizationDesk, bearer, listen, readRequestBody, record, sendJson,
  type LocalServer, type OAuthClient, type ProviderCall, type TokenOwner,
} from './base.ts';

export interface HubSpotContact { id: string; properties: Record<string, string>; createdBy: string }

export interface LocalHubSpot extends LocalServer {
  desk: AuthorizationDesk;
  calls: ProviderCall[];
  contacts: HubSpotContact[];
}

const hubspotError = (category: string, message: string) => ({ status: 'error', message, category, correlationId: randomBytes(8).toString('hex') });

export async function startHubSpot(options: { clients: OAuthClient[] }): Promise<LocalHubSpot> {
  const desk = new AuthorizationDesk(options.clients, 'CJ', { pkce: false });
  const calls: ProviderCall[] = [];
  const contacts: HubSpotContact[] = [];
  const refreshTokens = new Map<string, TokenOwner>();
  let next = 101;

  const server = await listen(async (req, res, url) => {
    const path = url.pathname;
    if (req.method === 'GET' && path === '/oauth/authorize') return desk.renderConsent(res, url, 'HubSpot');
    if (req.method === 'POST' && path === '/consent/login') return desk.approve(req, res, (p) => (p.get('scope') ?? '').split(' ').filter(Boolean));
    if (req.method === 'POST' && path === '/oauth/v1/token') {
      const form = (await readRequestBody(req)).form;
      const client = desk.client(form.get('client_id') ?? '');
      const issue = (owner: TokenOwner) => {
        const refresh_token = `${randomBytes(4).toString('hex')}-${randomBytes(8).toString('hex')}`;
        refreshTokens.set(refresh_token, owner);
        return { access_token: desk.mint(owner), token_type: 'bearer', expires_in: 1800, refresh_token };
      };
      if (form.get('grant_type') === 'refresh_token') {
        if (!client || client.client_secret !== form.get('client_secret')) return sendJson(res, 400, { status: 'BAD_CLIENT_ID', message: 'missing or unknown client_id' });
        const owner = refreshTokens.get(form.get('refresh_token') ?? '');
        if (!owner) return sendJson(res, 400, { status: 'BAD_REFRESH_TOKEN', message: 'missing or unknown refresh token' });
        return sendJson(res, 200, issue(owner));
      }
      const result = desk.redeem({
        code: form.get('code') ?? '', client_id: form.get('client_id') ?? '', client_secret: form.get('client_secret') ?? '',
        redirect_uri: form.get('redirect_uri') ?? undefined,
      });
      if (!result.ok) return sendJson(res, 400, { status: result.error === 'invalid_client' ? 'BAD_CLIENT_ID' : 'BAD_AUTH_CODE', message: result.error });
      desk.tokens.delete(result.token);
      return sendJson(res, 200, issue(result.owner));
    }

    const token = bearer(req);
    const owner = token ? desk.tokens.get(token) : undefined;
    const body = (await readRequestBody(req)).json as Record<string, any> | undefined;
    const call = record(calls, req, url, token, owner, body);
    const answer = (status: number, payload: unknown) => { call.status = status; sendJson(res, status, payload); };
    if (!owner) return answer(401, hubspotError('INVALID_AUTHENTICATION', 'Authentication credentials not found.'));
    const view = (c: HubSpotContact, only?: string[]) => ({
      id: c.id, archived: false,
      properties: only ? Object.fromEntries(only.filter((p) => p in c.properties).map((p) => [p, c.properties[p]])) : c.properties,
    });

    if (req.method === 'POST' && path === '/crm/v3/objects/contacts') {
      const properties = body?.properties;
      if (!properties || typeof properties !== 'object') return answer(400, hubspotError('VALIDATION_ERROR', 'Invalid input JSON: properties is required'));
      if (properties.email && contacts.some((c) => c.properties.email === properties.email)) return answer(409, hubspotError('CONFLICT', `Contact already exists. Existing ID: ${contacts.find((c) => c.properties.email === properties.email)!.id}`));
      const contact: HubSpotContact = { id: String(next++), properties: Object.fromEntries(Object.entries(properties).map(([k, v]) => [k, String(v)])), createdBy: owner.user };
      contacts.push(contact);
      return answer(201, view(contact));
    }
    if (req.method === 'POST' && path === '/crm/v3/objects/contacts/search') {
      const filters = ((body?.filterGroups ?? []) as Array<{ filters?: Array<{ propertyName: string; operator: string; value: string }> }>).flatMap((g) => g.filters ?? []);
      const results = contacts.filter((c) => filters.every((f) => f.operator !== 'EQ' || c.properties[f.propertyName] === f.value));
      return answer(200, { total: results.length, results: results.map((c) => view(c)) });
    }
    const one = /^\/crm\/v3\/objects\/contacts\/([^/]+)$/.exec(path);
    if (req.method === 'GET' && one) {
      const contact = contacts.find((c) => c.id === decodeURIComponent(one[1]!));
      if (!contact) return answer(404, hubspotError('OBJECT_NOT_FOUND', 'Object not found.'));
      const only = url.searchParams.getAll('properties').flatMap((p) => p.split(','));
      return answer(200, view(contact, only.length ? only : undefined));
    }
    answer(404, hubspotError('NOT_FOUND', 'Unknown path'));
  });
  return { ...server, desk, calls, contacts };
}
