// A person opening a Writ connect link: sign in to Writ if asked, sign in and consent at the
// provider, and land back on Writ's callback page.
import { createServer } from 'node:net';
import { startDemoProvider, type DemoProvider } from '../../src/demo/provider/index.ts';
import { parseForm, type HttpClient, type HttpResponse } from './http.ts';
import { startTestWrit, type TestWrit } from './writ.ts';
import type { Clock } from '../../src/core/clock.ts';
import type { WritOptions } from '../../src/app/writ.ts';

export const DEMO_CLIENT = { client_id: 'writ-demo', client_secret: 'demo-client-secret-of-length' };

/** A port free right now, for a server whose URL another server must know first. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

/** Writ with the bundled demo provider as the `demo` connector's provider. */
export async function startWritWithDemo(options: { accessTokenTtlSeconds?: number; env?: Record<string, string>; clock?: Clock; writ?: WritOptions } = {}): Promise<{ writ: TestWrit; demo: DemoProvider }> {
  const port = await freePort();
  const demo = await startDemoProvider({
    clients: [{ ...DEMO_CLIENT, redirect_uris: [`http://localhost:${port}/connect/callback`] }],
    ...(options.accessTokenTtlSeconds ? { accessTokenTtlSeconds: options.accessTokenTtlSeconds } : {}),
  });
  const writ = await startTestWrit({
    env: {
      PORT: String(port), WRIT_DEMO_PROVIDER_URL: demo.url, WRIT_ALLOW_PRIVATE_EGRESS: '127.0.0.1',
      WRIT_CONNECTOR_CLIENTS: JSON.stringify({ demo: DEMO_CLIENT }), ...options.env,
    },
    ...(options.clock || options.writ ? { writ: { ...options.writ, ...(options.clock ? { clock: options.clock } : {}) } } : {}),
  });
  return { writ, demo };
}

export interface ConnectOptions {
  writUser?: { username: string; password: string };
  providerUser?: string;
}

/** Follows a connect link to its end; returns the last response (Writ's callback page, or where it stopped). */
export async function openConnectLink(browser: HttpClient, link: string, options: ConnectOptions = {}): Promise<HttpResponse> {
  let response = await browser.follow(link);
  for (let step = 0; step < 8; step++) {
    if (response.status !== 200 && response.status !== 401) return response;
    if (new URL(response.url).pathname === '/connect/callback') return response;
    const text = response.text;
    let posted: HttpResponse;
    if (text.includes('/account/signin')) {
      if (!options.writUser) return response;
      const form = parseForm(text, /account\/signin/);
      posted = await browser.request(new URL(form.action, response.url), { form: { ...form.hidden, username: options.writUser.username, password: options.writUser.password } });
    } else if (text.includes('/login"')) {
      const form = parseForm(text, '/login');
      posted = await browser.request(new URL(form.action, response.url), { form: { ...form.hidden, username: options.providerUser ?? 'john', password: 'demo' } });
    } else if (text.includes('/confirm"')) {
      const form = parseForm(text, '/confirm');
      posted = await browser.request(new URL(form.action, response.url), { form: form.hidden });
    } else {
      return response;
    }
    response = posted.location ? await browser.follow(posted.location) : posted;
  }
  return response;
}
