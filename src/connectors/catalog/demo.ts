import type { z } from 'zod';
import type { connectorDefinitionSchema } from '../schema.ts';

// The demo connector: Writ's bundled notes provider (src/demo/provider), an oidc-provider at
// its issuer URL (authorization `/auth`, token `/token`, revocation `/token/revocation`, PKCE
// S256 required, rotating refresh tokens) with a notes API under `/api`. Its URL comes from
// configuration (`WRIT_DEMO_PROVIDER_URL`), so it is built here rather than shipped as JSON.

export const DEMO_CONNECTOR = 'demo';

export function demoConnectorDefinition(issuer: string): z.input<ReturnType<typeof connectorDefinitionSchema>> {
  const base = issuer.replace(/\/+$/, '');
  return {
    name: DEMO_CONNECTOR,
    display_name: 'Demo notes',
    description: 'The bundled demo provider: a small notes service behind its own OAuth 2.0 server.',
    auth: {
      type: 'oauth2',
      authorization_url: `${base}/auth`,
      token_url: `${base}/token`,
      revocation_url: `${base}/token/revocation`,
      scopes: ['notes:read', 'notes:write'],
      token_endpoint_auth_method: 'client_secret_basic',
      refresh: { rotating: true, expires: true },
    },
    api_base_url: `${base}/api`,
    tools: {
      'notes.create': {
        description: 'Create a note.',
        method: 'POST',
        path: '/notes',
        scopes: ['notes:write'],
        input_schema: {
          type: 'object',
          properties: {
            title: { type: 'string', minLength: 1, maxLength: 200 },
            body: { type: 'string', maxLength: 10000 },
          },
          required: ['title', 'body'],
          additionalProperties: false,
        },
        body: 'input',
        resource: 'demo:notes',
      },
      'notes.get': {
        description: 'Read one note by id.',
        method: 'GET',
        path: '/notes/{id}',
        scopes: ['notes:read'],
        input_schema: {
          type: 'object',
          properties: { id: { type: 'string', minLength: 1 } },
          required: ['id'],
          additionalProperties: false,
        },
        resource: 'demo:note:{id}',
      },
      'notes.list': {
        description: "List the signed-in user's notes.",
        method: 'GET',
        path: '/notes',
        scopes: ['notes:read'],
        input_schema: { type: 'object', properties: {}, additionalProperties: false },
        resource: 'demo:notes',
      },
    },
  };
}
