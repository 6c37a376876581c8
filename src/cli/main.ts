#!/usr/bin/env node
import { startWrit } from '../app/writ.ts';
import { ConfigError, loadConfig } from '../config/load.ts';

// `writ serve`: the authorization server and executor in one process.
async function serve(): Promise<void> {
  let config;
  try {
    config = loadConfig(process.env);
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`writ: configuration error: ${err.message}\n`);
      process.exit(2);
    }
    throw err;
  }
  const writ = await startWrit(config);
  process.stderr.write(`\nWrit is listening at ${writ.issuer}\n`);
  if (config.generatedSecrets.length || config.storedSecrets.length) {
    process.stderr.write(`Development secrets are in ${config.dataDir} (admin-token, master-key).\n`);
  }
  process.stderr.write(`Next: curl -H "Authorization: Bearer $(cat ${config.dataDir}/admin-token)" ${writ.issuer}/admin/v1/orgs\n\n`);
  const stop = async () => {
    await writ.close();
    process.exit(0);
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
}

const [command = 'serve'] = process.argv.slice(2);
if (command === 'serve') {
  await serve();
} else {
  process.stderr.write(`writ: unknown command ${command}\nusage: writ serve\n`);
  process.exit(2);
}
