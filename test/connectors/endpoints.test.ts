import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CatalogLoadError, ConnectorCatalog } from '../../src/connectors/catalog.ts';
import { EgressError } from '../../src/connectors/egress.ts';
import { buildRequest } from '../../src/connectors/request.ts';
import { ConfigError, loadConfig } from '../../src/config/load.ts';

const GHE = {
  api_base_url: 'https://ghe.xcorp.example/api/v3',
  authorization_url: 'https://ghe.xcorp.example/login/oauth/authorize',
  token_url: 'https://ghe.xcorp.example/login/oauth/access_token',
};
const clients = { github: { client_id: 'ghe-client', client_secret: 'ghe-secret' } };

test('an override moves a shipped connector to another host: requests, OAuth endpoints and the allowed host all follow', async () => {
  const catalog = new ConnectorCatalog({ endpoints: { github: GHE }, oauthClients: clients });
  const tool = (await catalog.getTool('org_x', 'github.issues.get'))!;
  const request = buildRequest(tool.catalogConnector.definition, tool.definition, { owner: 'xcorp', repo: 'api', issue_number: 7 }, catalog.egress);
  assert.equal(request.url, 'https://ghe.xcorp.example/api/v3/repos/xcorp/api/issues/7');
  assert.equal(request.headers['x-github-api-version'], '2022-11-28', 'the definition\'s headers and tools are unchanged');
  const provider = (await catalog.oauthProvider('org_x', 'github'))!;
  assert.equal(provider.authorization_url, GHE.authorization_url);
  assert.equal(provider.token_url, GHE.token_url);
  assert.equal(provider.token_endpoint_auth_method, 'client_secret_post');
  const github = (await catalog.getConnector('org_x', 'github'))!.definition;
  assert.deepEqual(github.allowed_hosts, ['ghe.xcorp.example'], 'the credential may go to the new API host only');
  // Other connectors keep their public hosts.
  const slack = (await catalog.getConnector('org_x', 'slack'))!.definition;
  assert.equal(slack.api_base_url, 'https://slack.com/api');
});

test('an override of the OAuth endpoints alone keeps the API host', async () => {
  const catalog = new ConnectorCatalog({ endpoints: { notion: { token_url: 'https://eu.notion.example/v1/oauth/token' } }, oauthClients: { notion: { client_id: 'n' } } });
  const notion = (await catalog.getConnector('org_x', 'notion'))!.definition;
  assert.equal(notion.api_base_url, 'https://api.notion.com/v1');
  assert.deepEqual(notion.allowed_hosts, ['api.notion.com']);
  assert.equal((await catalog.oauthProvider('org_x', 'notion'))!.token_url, 'https://eu.notion.example/v1/oauth/token');
  assert.equal((await catalog.oauthProvider('org_x', 'notion'))!.authorization_url, 'https://api.notion.com/v1/oauth/authorize');
});

test('http is refused unless the operator allow-listed the host for private egress', () => {
  const local = { api_base_url: 'http://127.0.0.1:4321', authorization_url: 'http://127.0.0.1:4321/login/oauth/authorize', token_url: 'http://127.0.0.1:4321/login/oauth/access_token' };
  assert.throws(() => new ConnectorCatalog({ endpoints: { github: local } }), (err: Error) => {
    assert.ok(err instanceof CatalogLoadError);
    assert.match(err.message, /github \(WRIT_CONNECTOR_ENDPOINTS\).*api_base_url: http is allowed only for hosts in WRIT_ALLOW_PRIVATE_EGRESS/);
    return true;
  });
  // Another loopback port is another host: the allow-list is exact.
  assert.throws(() => new ConnectorCatalog({ endpoints: { github: local }, egress: { allowPrivateHosts: ['127.0.0.1:9999'] } }), /http is allowed only/);
  const catalog = new ConnectorCatalog({ endpoints: { github: local }, egress: { allowPrivateHosts: ['127.0.0.1:4321'] } });
  assert.deepEqual(catalog.shippedConnectors().find((d) => d.name === 'github')!.allowed_hosts, ['127.0.0.1:4321']);
});

test('the public host is no longer reachable once a connector is moved', async () => {
  const catalog = new ConnectorCatalog({ endpoints: { github: GHE } });
  const tool = (await catalog.getTool('org_x', 'github.issues.get'))!;
  // The same definition, asked to call its old host, is refused by the egress check.
  const github = (await catalog.getConnector('org_x', 'github'))!.definition;
  assert.throws(() => buildRequest(github, tool.definition, { owner: 'a', repo: 'b', issue_number: 1 }, { baseUrl: 'https://api.github.com' }), (err: Error) => err instanceof EgressError && err.reason === 'host_not_allowed');
});

test('an override for no shipped connector, an empty one, or a URL with credentials stops start-up', () => {
  assert.throws(() => new ConnectorCatalog({ endpoints: { gitlab: GHE } }), /gitlab \(WRIT_CONNECTOR_ENDPOINTS\) is invalid: no shipped connector/);
  assert.throws(() => new ConnectorCatalog({ endpoints: { github: {} } }), /names no endpoint/);
  assert.throws(() => new ConnectorCatalog({ endpoints: { github: { api_base_url: 'https://user:pw@ghe.example/api' } } }), /api_base_url/);
});

test('WRIT_CONNECTOR_ENDPOINTS is parsed at start-up and a bad value names the setting', () => {
  const base = { WRIT_DATA_DIR: '/tmp/writ-endpoints-config', WRIT_ADMIN_TOKEN: 'a'.repeat(40), WRIT_MASTER_KEY: `v1:${'A'.repeat(43)}` };
  const config = loadConfig({ ...base, WRIT_CONNECTOR_ENDPOINTS: JSON.stringify({ github: GHE }) });
  assert.deepEqual(config.connectorEndpoints, { github: GHE });
  assert.deepEqual(loadConfig(base).connectorEndpoints, {});
  for (const bad of ['not json', '{"github": {"api_base_url": "ftp://x"}}', '{"github": {}}', '{"github": {"api_url": "https://x"}}', '{"GitHub": {"token_url": "https://x"}}']) {
    assert.throws(() => loadConfig({ ...base, WRIT_CONNECTOR_ENDPOINTS: bad }), (err: Error) => {
      assert.ok(err instanceof ConfigError, bad);
      assert.equal(err.setting, 'WRIT_CONNECTOR_ENDPOINTS');
      return true;
    });
  }
});
