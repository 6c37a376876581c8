#!/usr/bin/env node
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { CliError, jsonFailure } from './admin-api.ts';
import { HANDLERS } from './commands.ts';
import { createOutput } from './output.ts';
import { COMMANDS, EXIT, GLOBAL_OPTIONS, usage } from './spec.ts';

// `writ serve` runs the server (src/app/serve.ts), `writ dev` the same with the demo provider
// connected (src/demo/dev.ts); `writ --version` prints the version; every other command is a row in
// spec.ts, and a bare `writ` prints their usage.

/**
 * A failure: `writ: message` (and the usage, for a usage mistake) for people; with --json, one JSON
 * document `{ error, error_description, exit_code }` on stderr for scripts. Returns the exit code.
 */
function fail(json: boolean, err: CliError, usageText = ''): number {
  process.stderr.write(json ? jsonFailure(err.error, err.message, err.exitCode) : `writ: ${err.message}\n${usageText ? `\n${usageText}` : ''}`);
  return err.exitCode;
}

/** Picks the command whose words start argv (longest first), parses its options, and runs it. */
async function run(argv: string[]): Promise<number> {
  const json = argv.includes('--json');
  const spec = [...COMMANDS].sort((a, b) => b.name.length - a.name.length).find((c) => c.name.every((w, i) => argv[i] === w));
  if (!spec) {
    const asked = argv[0] === undefined || argv[0] === '--help' || argv[0] === '-h' || argv[0] === 'help';
    if (json && !asked) return fail(json, new CliError(EXIT.usage, `unknown command ${argv.slice(0, 2).join(' ')}`, 'unknown_command'));
    process.stderr.write(`${asked ? '' : `writ: unknown command ${argv.slice(0, 2).join(' ')}\n`}usage: writ <command> [options]\n\n${COMMANDS.map((c) => `  writ ${c.name.join(' ').padEnd(20)} ${c.description.split('. ')[0]}`).join('\n')}\n\nwrit <command> --help for its options.\n`);
    return asked ? EXIT.ok : EXIT.usage;
  }
  const options = { ...GLOBAL_OPTIONS, ...spec.options };
  let parsed;
  try {
    parsed = parseArgs({
      args: argv.slice(spec.name.length), allowPositionals: true, strict: true,
      options: Object.fromEntries(Object.entries(options).map(([name, o]) => [name, { type: o.type, ...(o.multiple ? { multiple: true } : {}), ...(o.short ? { short: o.short } : {}) }])),
    });
  } catch (err) {
    return fail(json, new CliError(EXIT.usage, (err as Error).message, 'usage'), usage(spec));
  }
  if (parsed.values.help) { process.stdout.write(usage(spec)); return EXIT.ok; }
  const required = spec.args.filter((a) => a.required).length;
  if (parsed.positionals.length < required || parsed.positionals.length > spec.args.length) {
    return fail(json, new CliError(EXIT.usage, `expected ${spec.args.map((a) => (a.required ? `<${a.name}>` : `[${a.name}]`)).join(' ') || 'no arguments'}`, 'usage'), usage(spec));
  }
  const values = { ...parsed.values } as Record<string, string | boolean | string[] | undefined>;
  for (const [name, o] of Object.entries(options)) if (values[name] === undefined && o.env && process.env[o.env]) values[name] = process.env[o.env];
  const handler = HANDLERS[spec.name.join(' ')];
  if (!handler) {
    // `serve` is run before this parser; here it was given options it does not take.
    return fail(json, new CliError(EXIT.usage, `${spec.name.join(' ')} takes no options`, 'usage'), usage(spec));
  }
  const out = createOutput(values.json === true);
  try {
    return await handler({ args: parsed.positionals, values, out, env: process.env });
  } catch (err) {
    if (err instanceof CliError) return fail(values.json === true, err);
    throw err;
  }
}

const argv = process.argv.slice(2);
if (argv[0] === 'serve' && argv.length === 1) {
  // Loaded only to serve, so admin commands start without the server's dependencies. Only an
  // explicit `writ serve` starts a server: a bare `writ` prints the usage like any other mistake.
  const { serve } = await import('../app/serve.ts');
  await serve();
} else if (argv[0] === 'dev' && argv.length === 1) {
  const { dev } = await import('../demo/dev.ts');
  await dev();
} else if (argv[0] === '--version' || argv[0] === '-V' || argv[0] === 'version') {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
  process.stdout.write(`writ ${pkg.version}\n`);
} else {
  process.exitCode = await run(argv);
}
