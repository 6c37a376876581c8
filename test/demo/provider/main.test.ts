import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

const MAIN = fileURLToPath(new URL('../../../src/demo/provider/main.ts', import.meta.url));

function run(env: Record<string, string>) {
  const child = spawn(process.execPath, ['--disable-warning=ExperimentalWarning', MAIN], {
    env: { PATH: process.env.PATH ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => { stdout += chunk; });
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => { stderr += chunk; });
  return { child, output: () => ({ stdout, stderr }) };
}

describe('demo provider CLI', () => {
  it('starts from the environment, prints where it listens and serves discovery', async () => {
    const { child, output } = run({
      DEMO_PROVIDER_PORT: '0',
      DEMO_CLIENT_ID: 'quickstart',
      DEMO_CLIENT_SECRET: 'quickstart-secret',
      DEMO_REDIRECT_URI: 'http://127.0.0.1:8080/v1/connect/callback',
    });
    try {
      const url = await new Promise<string | undefined>((resolve) => {
        const look = () => {
          const found = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(output().stdout)?.[1];
          if (found) resolve(found);
        };
        child.stdout.on('data', look);
        child.once('exit', () => resolve(undefined));
      });
      assert.ok(url, `no address printed: ${JSON.stringify(output())}`);
      assert.ok(!output().stdout.includes('quickstart-secret'), 'the client secret is not printed');
      const discovery = await (await fetch(`${url}/.well-known/openid-configuration`)).json() as Record<string, unknown>;
      assert.equal(discovery.issuer, url);
      assert.deepEqual(discovery.code_challenge_methods_supported, ['S256']);
    } finally {
      child.kill('SIGTERM');
      await once(child, 'exit');
    }
  });

  it('exits with status 2 naming each missing setting', async () => {
    const { child, output } = run({ DEMO_PROVIDER_PORT: '0' });
    const [code] = await once(child, 'exit');
    assert.equal(code, 2);
    assert.match(output().stderr, /DEMO_CLIENT_SECRET is required/);
    assert.match(output().stderr, /DEMO_REDIRECT_URI/);
  });
});
