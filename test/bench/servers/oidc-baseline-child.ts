// A bare oidc-provider (the version Writ runs on) with its in-memory adapter, serving
// client_credentials with opaque tokens: the framework's own ceiling for a token endpoint.
//   node oidc-baseline-child.ts PORT CLIENT_ID CLIENT_SECRET
import { createServer } from 'node:http';
import Provider from 'oidc-provider';

const [port = '0', client_id = 'bench', client_secret = 'bench-secret'] = process.argv.slice(2);
const issuer = `http://127.0.0.1:${port}`;
const provider = new Provider(issuer, {
  clients: [{ client_id, client_secret, grant_types: ['client_credentials'], redirect_uris: [], response_types: [] }],
  features: { clientCredentials: { enabled: true }, devInteractions: { enabled: false } },
  scopes: ['notes:read'],
});
const server = createServer(provider.callback());
server.listen(Number(port), '127.0.0.1');
process.once('SIGTERM', () => { server.close(); server.closeAllConnections(); process.exit(0); });
