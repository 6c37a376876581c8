// @writ/verifier and @writ/client as a downstream project gets them: packed from their workspace
// folders, installed from the tarballs into a fresh project outside the repository on Node 24 and
// on Node 22 LTS, and run there in plain JavaScript — Express, Fastify, Koa and Hono services and an
// MCP SDK server, protected by the verifier against capabilities minted by a running Writ.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { copyFileSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { createInterface } from 'node:readline';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { waitFor } from '../support/wait.ts';
import { startWritWithCapabilities, OTHER_TOOL, TOOL, type CapabilityPair, type WritWithCapabilities } from '../verifier/writ-capabilities.ts';
import { runPageSamples } from './sample-cases.ts';
import { installedClosure, installNode22, installProject, npm, packLibraries, pinned, ROOT, type Project } from './install.ts';

const METADATA = 'https://notes.example/.well-known/oauth-protected-resource';
const SERVER_ONLY = Object.keys((JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { dependencies: Record<string, string> }).dependencies)
  .filter((name) => !['jose', 'zod', '@biscuit-auth/biscuit-wasm'].includes(name));
/** What the downstream project installs besides the tarballs: the frameworks its services use. */
const FRAMEWORKS = ['express', 'fastify', 'koa', 'hono', '@hono/node-server', '@modelcontextprotocol/sdk'].map((name) => `${name}@${pinned(name)}`);
/** And on Node 24, the agent frameworks the SDK's page uses, and the types its TypeScript blocks are checked with. */
const AGENT_FRAMEWORKS = ['ai', '@langchain/core', '@langchain/langgraph', '@openai/agents', '@types/node', '@types/express'].map((name) => `${name}@${pinned(name)}`);

interface Services { express: string; fastify: string; koa: string; hono: string; mcp: string; stop(): Promise<void> }

/** Starts the project's services (test/packages/downstream/services.mjs) on the project's Node. */
async function startServices(project: Project, issuer: WritWithCapabilities): Promise<Services> {
  copyFileSync(join(import.meta.dirname, 'downstream', 'services.mjs'), join(project.dir, 'services.mjs'));
  const child: ChildProcess = spawn(project.node, ['services.mjs'], {
    cwd: project.dir,
    env: { PATH: process.env.PATH, WRIT_ISSUER: issuer.writ.issuer, AUDIENCE: issuer.writ.executorResource, TOOL, METADATA },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr!.on('data', (chunk) => { stderr += chunk; });
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
  const urls = await new Promise<Omit<Services, 'stop'>>((resolve, reject) => {
    // biscuit-wasm prints a line of its own when it starts; the services' line is the JSON one.
    createInterface({ input: child.stdout! }).on('line', (line) => { if (line.startsWith('{')) resolve(JSON.parse(line)); });
    void exited.then((code) => reject(new Error(`services.mjs exited with ${code}:\n${stderr}`)));
  });
  return { ...urls, async stop() { child.stdin!.end(); await exited; } };
}

const callService = (url: string, authorization?: string) => fetch(`${url}/notes`, {
  method: 'POST',
  headers: { 'content-type': 'application/json', ...(authorization && { authorization }) },
  body: JSON.stringify({ input: { title: 't', body: 'b' }, user: 'usr_someone_else' }),
});

const listTools = (url: string, authorization?: string) => fetch(url, {
  method: 'POST',
  headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', ...(authorization && { authorization }) },
  body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list' }),
});

/** An import or re-export statement of tsc's output (`from '…'` ends it), a bare `import '…'`, or `import('…')`. */
const IMPORT = /^\s*(?:import|export)\s[^;]*?\bfrom\s*['"]([^'"]+)['"]|^\s*import\s*['"]([^'"]+)['"]|\bimport\(\s*['"]([^'"]+)['"]\s*\)/gm;

/** The packages a file of the installed library imports by name (relative imports and node: built-ins aside). */
function bareImports(source: string): string[] {
  const specifiers = [...source.matchAll(IMPORT)].map((m) => (m[1] ?? m[2] ?? m[3])!);
  return specifiers.filter((s) => !s.startsWith('.') && !s.startsWith('node:')).map((s) => s.startsWith('@') ? s.split('/').slice(0, 2).join('/') : s.split('/')[0]!);
}

function jsFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? jsFiles(path) : name.endsWith('.js') ? [path] : [];
  });
}

/** Files reachable from `entry` by relative imports, as paths relative to the package. */
function reachable(packageDir: string, entry: string): Set<string> {
  const seen = new Set<string>();
  const queue = [join(packageDir, entry)];
  while (queue.length) {
    const file = queue.pop()!;
    const rel = relative(packageDir, file);
    if (seen.has(rel)) continue;
    seen.add(rel);
    for (const m of readFileSync(file, 'utf8').matchAll(IMPORT)) {
      const specifier = (m[1] ?? m[2] ?? m[3])!;
      if (specifier.startsWith('.')) queue.push(join(file, '..', specifier));
    }
  }
  return seen;
}

test('@writ/verifier and @writ/client install from their tarballs and work on Node 24 and Node 22', async (t) => {
  const [packed, node22, issuer] = await Promise.all([packLibraries(), installNode22(), startWritWithCapabilities()]);
  t.after(() => issuer.stop());
  const remove = (dir: string) => () => rmSync(dir, { recursive: true, force: true });
  t.after(remove(dirname(packed[0]!.tarball)));
  t.after(remove(join(dirname(node22), '..', '..')));
  const forgedOf = (pair: CapabilityPair) => issuer.forge(pair);

  await t.test('each tarball holds the built JavaScript, declarations and maps, the README, licence and changelog: no source, no test', () => {
    for (const p of packed) {
      const outside = p.files.filter((f) => !/^dist\/.+\.(js|js\.map|d\.ts)$/.test(f) && !['package.json', 'README.md', 'LICENSE', 'CHANGELOG.md'].includes(f));
      assert.deepEqual(outside, [], `${p.name} ships only its build and its papers`);
      for (const paper of ['package.json', 'README.md', 'LICENSE', 'CHANGELOG.md']) assert.ok(p.files.includes(paper), `${p.name} ships ${paper}`);
      const manifest = JSON.parse(readFileSync(join(ROOT, 'src', p.name.split('/')[1]!, 'package.json'), 'utf8')) as { exports: Record<string, string | Record<string, string>>; sideEffects: boolean };
      assert.equal(manifest.sideEffects, false);
      for (const [subpath, target] of Object.entries(manifest.exports)) {
        for (const file of typeof target === 'string' ? [target] : Object.values(target)) {
          assert.ok(p.files.includes(file.replace(/^\.\//, '')), `${p.name} exports ${subpath} from ${file}, which it ships`);
        }
      }
      t.diagnostic(`${p.name}: ${p.files.length} files, ${Math.round(p.size / 1024)} KiB packed, ${Math.round(p.unpackedSize / 1024)} KiB unpacked`);
    }
  });

  await t.test('npm publish --dry-run is clean for each library: no warning but the missing login', async () => {
    await Promise.all(packed.map(async (p) => {
      const { stderr } = await npm(process.execPath, ROOT, ['publish', '--dry-run', '-w', p.name]);
      const warnings = stderr.split('\n').filter((line) => /npm (warn|error)/i.test(line) && !/requires you to be logged in/.test(line));
      assert.deepEqual(warnings, [], `${p.name}: ${stderr}`);
    }));
  });

  for (const node of [process.execPath, node22]) {
    const onProjectNode = node === process.execPath;
    const project = await installProject(node, packed, [...FRAMEWORKS, ...(onProjectNode ? AGENT_FRAMEWORKS : [])]);
    t.after(remove(project.dir));
    const major = project.version.split('.')[0]!;

    await t.test(`${major}: the verifier's installed closure is jose, biscuit-wasm and zod; the client's is jose; neither has a server dependency`, () => {
      const verifier = installedClosure(project, '@writ/verifier');
      assert.deepEqual(verifier, ['@biscuit-auth/biscuit-wasm', 'jose', 'zod']);
      assert.deepEqual(installedClosure(project, '@writ/client'), ['jose']);
      for (const name of SERVER_ONLY) assert.ok(!verifier.includes(name), `the verifier brings ${name}`);

      const dir = join(project.dir, 'node_modules', '@writ', 'verifier');
      const frameworkOf: Record<string, string> = { 'dist/verifier/mcp.js': '@modelcontextprotocol/sdk' };
      for (const file of jsFiles(join(dir, 'dist'))) {
        const rel = relative(dir, file);
        const allowed = ['@biscuit-auth/biscuit-wasm', 'jose', 'zod', ...(frameworkOf[rel] ? [frameworkOf[rel]] : [])];
        const source = readFileSync(file, 'utf8');
        for (const name of bareImports(source)) assert.ok(allowed.includes(name), `${rel} imports ${name}`);
        // A module loaded by URL (a worker's script, say) is not rewritten by tsc: it would name a .ts file the package does not ship.
        assert.doesNotMatch(source, /['"`][^'"`\s]*\.ts['"`]/, `${rel} names a .ts file`);
      }
      const main = reachable(dir, 'dist/verifier/index.js');
      for (const framework of ['express', 'fastify', 'hono', 'mcp']) assert.ok(!main.has(`dist/verifier/${framework}.js`), `the main entry loads ${framework}.js`);
      assert.ok(main.has('dist/capability/biscuit-open.js'), 'the walk follows imports');
    });

    await t.test(`${major}: Express, Fastify, Koa, Hono and MCP services in the project verify Writ's capabilities`, async (t) => {
      const services = await startServices(project, issuer);
      t.after(() => services.stop());
      const live = await issuer.mint(TOOL);
      const doomed = await issuer.mint(TOOL);
      const elsewhere = await issuer.mint(OTHER_TOOL);

      for (const [name, url] of [['express', services.express], ['fastify', services.fastify], ['koa', services.koa], ['hono', services.hono]] as const) {
        await t.test(`${name}: a JWT and a Biscuit reach the handler, which sees the capability's principal`, async () => {
          for (const token of [live.jwt, live.biscuit]) {
            const response = await callService(url, `Bearer ${token}`);
            assert.equal(response.status, 200, await response.clone().text());
            assert.deepEqual(await response.json(), {
              sub: issuer.seeded.user.id, principal: 'user', org: issuer.seeded.org.id, via: [issuer.seeded.agent.client_id], node: project.version,
            });
          }
        });
        await t.test(`${name}: a forged JWT gets 401 invalid_token naming the resource metadata`, async () => {
          const response = await callService(url, `Bearer ${forgedOf(live)}`);
          assert.equal(response.status, 401);
          const challenge = response.headers.get('www-authenticate') ?? '';
          assert.match(challenge, /^Bearer error="invalid_token"/);
          assert.ok(challenge.includes(`resource_metadata="${METADATA}"`), challenge);
        });
        await t.test(`${name}: a capability for another tool gets 403 insufficient_scope naming the scope it needs`, async () => {
          for (const token of [elsewhere.jwt, elsewhere.biscuit]) {
            const response = await callService(url, `Bearer ${token}`);
            assert.equal(response.status, 403);
            const challenge = response.headers.get('www-authenticate') ?? '';
            assert.match(challenge, /^Bearer error="insufficient_scope"/);
            assert.ok(challenge.includes(`scope="tool:${TOOL}"`), challenge);
          }
        });
      }

      await t.test('mcp: the SDK client lists and calls the tool with either format; the tool sees whom it acts for', async () => {
        for (const token of [live.jwt, live.biscuit]) {
          const client = new Client({ name: 'agent', version: '1.0.0' });
          await client.connect(new StreamableHTTPClientTransport(new URL(services.mcp), { requestInit: { headers: { authorization: `Bearer ${token}` } } }));
          try {
            assert.deepEqual((await client.listTools()).tools.map((tool) => tool.name), ['create_note']);
            const result = await client.callTool({ name: 'create_note', arguments: {} });
            assert.deepEqual(JSON.parse((result.content as Array<{ text: string }>)[0]!.text), {
              sub: issuer.seeded.user.id, principal: 'user', org: issuer.seeded.org.id, via: [issuer.seeded.agent.client_id], node: project.version, scopes: [`tool:${TOOL}`],
            });
          } finally {
            await client.close();
          }
        }
      });

      await t.test('mcp: no token, a forged one, another tool: 401 with resource_metadata, 401 invalid_token, 403 insufficient_scope', async () => {
        const missing = await listTools(services.mcp);
        assert.equal(missing.status, 401);
        assert.ok((missing.headers.get('www-authenticate') ?? '').includes(`resource_metadata="${METADATA}/mcp"`));
        const forged = await listTools(services.mcp, `Bearer ${forgedOf(live)}`);
        assert.equal(forged.status, 401);
        assert.match(forged.headers.get('www-authenticate') ?? '', /error="invalid_token"/);
        const other = await listTools(services.mcp, `Bearer ${elsewhere.biscuit}`);
        assert.equal(other.status, 403);
        assert.match(other.headers.get('www-authenticate') ?? '', /error="insufficient_scope"/);
      });

      await t.test('every service refuses a revoked capability once the feed says so', async () => {
        for (const token of [doomed.jwt, doomed.biscuit]) {
          assert.equal((await callService(services.express, `Bearer ${token}`)).status, 200);
          assert.equal((await listTools(services.mcp, `Bearer ${token}`)).status, 200);
        }
        await issuer.revoke(doomed);
        for (const token of [doomed.jwt, doomed.biscuit]) {
          for (const url of [services.express, services.fastify, services.koa, services.hono]) {
            await waitFor(`${url} refuses the revoked capability`, async () => {
              const response = await callService(url, `Bearer ${token}`);
              if (response.status !== 401) return false;
              assert.equal(((await response.json()) as { error: string }).error, 'revoked');
              return true;
            });
          }
          await waitFor('the MCP server refuses the revoked capability', async () => {
            const response = await listTools(services.mcp, `Bearer ${token}`);
            if (response.status !== 401) return false;
            assert.match(response.headers.get('www-authenticate') ?? '', /error="invalid_token"/);
            return true;
          });
        }
      });
    });

    if (onProjectNode) {
      await t.test(`${major}: every code block of docs/verifier.md, docs/sdk.md and the READMEs runs against the installed packages`, (t) => runPageSamples(t, project));
    }
  }
});
