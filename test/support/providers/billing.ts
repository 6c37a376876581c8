// A local billing provider, the kind an org registers itself (PUT /admin/v1/orgs/:org/connectors/
// billing): an API-key service over https — org connectors are https-only — with a self-signed
// certificate this test process trusts. `POST /v1/invoices/{id}/pay` with `{ amount }` pays an
// open invoice; every call is recorded with the key it carried.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { getCACertificates, setDefaultCACertificates } from 'node:tls';
import { listen, readRequestBody, record, sendJson, type LocalServer, type ProviderCall } from './base.ts';

export interface Invoice { id: string; amount_due: number; paid: number[] }

export interface LocalBilling extends LocalServer {
  calls: ProviderCall[];
  invoices: Map<string, Invoice>;
}

/** A key and certificate for 127.0.0.1, made with the system's openssl, and trusted by this process's TLS clients. */
function selfSignedForLoopback(): { key: string; cert: string } {
  const dir = mkdtempSync(join(tmpdir(), 'writ-billing-tls-'));
  try {
    execFileSync('openssl', [
      'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '1',
      '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1',
      '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem'),
    ], { stdio: 'ignore' });
    const pair = { key: readFileSync(join(dir, 'key.pem'), 'utf8'), cert: readFileSync(join(dir, 'cert.pem'), 'utf8') };
    setDefaultCACertificates([...getCACertificates('default'), pair.cert]);
    return pair;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** `http: true` serves plain http, as a local service the operator allow-listed in development would. */
export async function startBilling(options: { apiKey: string; invoices: Array<{ id: string; amount_due: number }>; http?: boolean }): Promise<LocalBilling> {
  const calls: ProviderCall[] = [];
  const invoices = new Map(options.invoices.map((i) => [i.id, { ...i, paid: [] as number[] }]));
  const server = await listen(async (req, res, url) => {
    const m = /^\/v1\/invoices\/([^/]+)\/pay$/.exec(url.pathname);
    const key = /^Bearer (\S+)$/.exec(req.headers.authorization ?? '')?.[1];
    const body = (await readRequestBody(req)).json as { amount?: number } | undefined;
    const call = record(calls, req, url, key, key === options.apiKey ? { user: 'org', client_id: '', scopes: [], extra: {} } : undefined, body);
    const answer = (status: number, payload: unknown) => { call.status = status; sendJson(res, status, payload); };
    if (key !== options.apiKey) return answer(401, { error: { type: 'authentication_error', message: 'Invalid API key' } });
    if (req.method !== 'POST' || !m) return answer(404, { error: { type: 'invalid_request_error', message: 'Unrecognized request URL' } });
    const invoice = invoices.get(decodeURIComponent(m[1]!));
    if (!invoice) return answer(404, { error: { type: 'invalid_request_error', message: 'No such invoice' } });
    const amount = Number(body?.amount);
    if (!Number.isFinite(amount) || amount <= 0) return answer(400, { error: { type: 'invalid_request_error', message: 'amount must be positive' } });
    invoice.paid.push(amount);
    return answer(200, { id: invoice.id, object: 'invoice', status: 'paid', amount_paid: amount });
  }, options.http ? undefined : createServer(selfSignedForLoopback()));
  return { ...server, calls, invoices };
}

/** XCorp's billing connector as the org registers it (PUT /admin/v1/orgs/:org/connectors/billing), pointing at `api_base_url`. */
export const billingConnector = (api_base_url: string) => ({
  display_name: 'Billing', description: 'XCorp\'s billing service.',
  auth: { type: 'api_key', prefix: 'Bearer ' },
  api_base_url,
  tools: {
    'invoices.pay': {
      description: 'Pay an open invoice (POST /v1/invoices/{invoice_id}/pay).',
      method: 'POST', path: '/v1/invoices/{invoice_id}/pay',
      input_schema: {
        type: 'object',
        properties: { invoice_id: { type: 'string', minLength: 1 }, amount: { type: 'number', exclusiveMinimum: 0 } },
        required: ['invoice_id', 'amount'], additionalProperties: false,
      },
      body: ['amount'],
      resource: 'billing:invoice:{invoice_id}',
    },
  },
});
