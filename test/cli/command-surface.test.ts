import { readdir, readFile } from 'node:fs/promises';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { repositoryRoot } from '../support/cli.js';

/**
 * The command surface is a contract (DESIGN §8): the names scripts call, an example and --json on
 * each, the topics, the committed oclif manifest, and a credential helper that loads only what it needs.
 */

interface ManifestCommand {
  id: string;
  examples?: string[];
  flags: Record<string, { name: string; type: string }>;
  enableJsonFlag?: boolean;
}

const expectedCommands = [
  'admin gc',
  'admin reset-password',
  'admin verify',
  'audit list',
  'auth activate-service-account',
  'auth change-password',
  'auth configure-docker',
  'auth docker-login',
  'auth list',
  'auth login',
  'auth logout',
  'auth print-access-token',
  'config get',
  'config list',
  'config set',
  'config unset',
  'images copy',
  'images delete',
  'images describe',
  'images export',
  'images import',
  'images list',
  'images scan',
  'images vulns',
  'projects add-iam-policy-binding',
  'projects create',
  'projects delete',
  'projects describe',
  'projects get-iam-policy',
  'projects list',
  'projects remove-iam-policy-binding',
  'projects update',
  'repos add-iam-policy-binding',
  'repos cleanup',
  'repos create',
  'repos delete',
  'repos describe',
  'repos get-iam-policy',
  'repos list',
  'repos remove-iam-policy-binding',
  'repos update',
  'serve',
  'service-accounts create',
  'service-accounts delete',
  'service-accounts keys create',
  'service-accounts keys delete',
  'service-accounts keys list',
  'service-accounts list',
  'tags add',
  'tags delete',
  'tags list',
  'users create',
  'users delete',
  'users disable',
  'users enable',
  'users list',
  'users set-password',
  'webhooks create',
  'webhooks delete',
  'webhooks deliveries',
  'webhooks describe',
  'webhooks list',
  'webhooks redeliver',
];

async function manifest(): Promise<Record<string, ManifestCommand>> {
  const text = await readFile(join(repositoryRoot, 'oclif.manifest.json'), 'utf8');
  return (JSON.parse(text) as { commands: Record<string, ManifestCommand> }).commands;
}

async function commandFiles(directory: string, prefix: string[] = []): Promise<string[]> {
  const ids: string[] = [];
  for (const entry of await readdir(directory, { withFileTypes: true })) {
    if (entry.isDirectory())
      ids.push(...(await commandFiles(join(directory, entry.name), [...prefix, entry.name])));
    else if (entry.name.endsWith('.ts')) ids.push([...prefix, entry.name.slice(0, -3)].join(' '));
  }
  return ids;
}

describe('the command surface', () => {
  it('has exactly the commands of DESIGN §8, and the committed manifest lists every command file', async () => {
    const ids = Object.keys(await manifest()).map((id) => id.replaceAll(':', ' '));
    expect(ids.sort()).toEqual(expectedCommands);
    expect((await commandFiles(join(repositoryRoot, 'commands'))).sort()).toEqual(expectedCommands);
  });

  it('gives every command an example, and every command but serve --json', async () => {
    for (const command of Object.values(await manifest())) {
      expect(command.examples?.length ?? 0, command.id).toBeGreaterThan(0);
      if (command.id !== 'serve') expect(command.flags.json, command.id).toBeDefined();
    }
  });

  it('matches the flags of the built commands (the manifest is current)', async () => {
    for (const [id, command] of Object.entries(await manifest())) {
      const file = join(repositoryRoot, 'dist', 'commands', ...id.split(':'));
      const built = (await import(`${file}.js`)) as {
        default: { flags?: Record<string, unknown>; enableJsonFlag?: boolean };
      };
      const flags = Object.keys(built.default.flags ?? {});
      if (built.default.enableJsonFlag) flags.push('json');
      expect(Object.keys(command.flags).sort(), id).toEqual(flags.sort());
    }
  });

  it('describes every topic in package.json and installs the credential helper', async () => {
    const pkg = JSON.parse(await readFile(join(repositoryRoot, 'package.json'), 'utf8')) as {
      bin: Record<string, string>;
      oclif: { topics: Record<string, { description: string }> };
    };
    const topics = new Set(
      expectedCommands.flatMap((id) => {
        const words = id.split(' ').slice(0, -1);
        return words.map((_, index) => words.slice(0, index + 1).join(':'));
      }),
    );
    for (const topic of topics) expect(pkg.oclif.topics[topic]?.description, topic).toBeTruthy();
    expect(pkg.bin['docker-credential-mistrive']).toBe('bin/docker-credential-mistrive.js');
    const install = await readFile(join(repositoryRoot, 'install.sh'), 'utf8');
    expect(install).toContain('bin/docker-credential-mistrive.js" "$bin_dir/docker-credential-mistrive"');
  });
});

/** Static imports of a built module, resolved to files or `node:` built-ins and packages. */
async function staticImports(file: string): Promise<string[]> {
  const text = await readFile(file, 'utf8');
  const specifiers = [...text.matchAll(/^\s*(?:import|export)\s[^'"]*?from\s+['"]([^'"]+)['"]/gm)].map(
    (match) => match[1] as string,
  );
  specifiers.push(
    ...[...text.matchAll(/^\s*import\s+['"]([^'"]+)['"]/gm)].map((match) => match[1] as string),
  );
  return specifiers.map((specifier) =>
    specifier.startsWith('.') ? resolve(dirname(file), specifier) : specifier,
  );
}

describe('the credential helper entry', () => {
  it('loads only Node built-ins and its own narrow modules, never oclif or the CLI', async () => {
    const entry = join(repositoryRoot, 'bin', 'docker-credential-mistrive.js');
    const seen = new Set<string>();
    const external = new Set<string>();
    const queue = [entry];
    while (queue.length > 0) {
      const file = queue.pop() as string;
      if (seen.has(file)) continue;
      seen.add(file);
      for (const imported of await staticImports(file)) {
        if (imported.startsWith('/')) queue.push(imported);
        else external.add(imported);
      }
    }
    expect(
      [...external].every((name) => name.startsWith('node:')),
      [...external].join(', '),
    ).toBe(true);
    const modules = [...seen].map((file) => relative(repositoryRoot, file)).sort();
    expect(modules).toEqual([
      'bin/docker-credential-mistrive.js',
      'dist/src/cli/credentials/accounts.js',
      'dist/src/cli/credentials/files.js',
      'dist/src/cli/credentials/registry-url.js',
      'dist/src/cli/credentials/secret-store.js',
      'dist/src/cli/credentials/session.js',
      'dist/src/cli/credentials/tokens.js',
      'dist/src/cli/errors.js',
      'dist/src/cli/paths.js',
      'dist/src/client/trusted-cas.js',
      'dist/src/credential-helper/main.js',
      'dist/src/credential-helper/protocol.js',
      'dist/src/lib/private-file.js',
    ]);
  });
});
