import { readFile } from 'node:fs/promises';
import { configDirectory } from '../cli/paths.js';
import { trustCertificatesIn } from '../client/trusted-cas.js';
import { runHelper, verbsReadingStdin } from './protocol.js';

/**
 * The entry of `docker-credential-mistrive`. It sits on the hot path of every push and pull, so it
 * imports only the helper protocol and what that needs, never oclif or the rest of the CLI.
 */

async function readStdin(): Promise<string> {
  if (process.stdin.isTTY) return '';
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

async function version(): Promise<string> {
  const manifest = JSON.parse(await readFile(new URL('../../../package.json', import.meta.url), 'utf8')) as {
    version: string;
  };
  return manifest.version;
}

const configDir = configDirectory(process.env);
// Registries with their own CA (`auth login --ca-cert`) are trusted here as in the CLI.
trustCertificatesIn(configDir);
const args = process.argv.slice(2);
const stdin = args.length === 1 && verbsReadingStdin.has(args[0] as string) ? await readStdin() : '';
const result = await runHelper(
  args,
  stdin,
  {
    env: process.env,
    configDir,
    nowSeconds: () => Math.floor(Date.now() / 1000),
    notice: (message) => process.stderr.write(`${message}\n`),
  },
  version,
);
process.stdout.write(result.stdout);
process.exitCode = result.exitCode;
