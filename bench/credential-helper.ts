import { mkdir, mkdtemp, readFile, rm, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { loadServeConfig } from '../src/config/config.js';
import { startRegistry } from '../src/server/app.js';

/**
 * `npm run bench:helper`: how long `docker-credential-mistrive get` takes when it answers from its
 * cache, which is what every `docker push` and `pull` waits for. Starts a registry, signs in with the
 * built CLI, then times the helper with hyperfine (or a plain loop where hyperfine is missing),
 * next to `node -e ''` for Node's own start-up.
 */

const root = fileURLToPath(new URL('..', import.meta.url));
const helper = join(root, 'bin', 'docker-credential-mistrive.js');
const cli = join(root, 'bin', 'run.js');
const runs = Number(process.env.RUNS ?? 50);

interface Timing {
  readonly name: string;
  readonly medianMs: number;
  readonly minMs: number;
  readonly maxMs: number;
  readonly runs: number;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2
    ? (sorted[middle] as number)
    : ((sorted[middle - 1] as number) + (sorted[middle] as number)) / 2;
}

async function hasHyperfine(): Promise<boolean> {
  return (await execa('hyperfine', ['--version'], { reject: false })).exitCode === 0;
}

async function time(
  name: string,
  command: string,
  env: Record<string, string>,
  work: string,
): Promise<Timing> {
  if (await hasHyperfine()) {
    const out = join(work, `${name.replace(/\W+/g, '-')}.json`);
    await execa(
      'hyperfine',
      ['--warmup', '5', '--runs', String(runs), '--export-json', out, '--style', 'none', command],
      {
        env,
        extendEnv: false,
      },
    );
    const result = (
      JSON.parse(await readFile(out, 'utf8')) as { results: { median: number; min: number; max: number }[] }
    ).results[0];
    if (!result) throw new Error('hyperfine reported nothing');
    return { name, medianMs: result.median * 1000, minMs: result.min * 1000, maxMs: result.max * 1000, runs };
  }
  const samples: number[] = [];
  for (let run = 0; run < runs + 5; run++) {
    const started = performance.now();
    await execa('sh', ['-c', command], { env, extendEnv: false });
    if (run >= 5) samples.push(performance.now() - started);
  }
  return { name, medianMs: median(samples), minMs: Math.min(...samples), maxMs: Math.max(...samples), runs };
}

async function main(): Promise<void> {
  const work = await mkdtemp(join(tmpdir(), 'mistrive-bench-helper-'));
  const password = 'bench-admin-password';
  const registry = await startRegistry(
    loadServeConfig(
      undefined,
      { port: 0, logLevel: 'silent', dataDir: join(work, 'data') },
      { MISTRIVE_ADMIN_PASSWORD: password },
    ),
  );
  try {
    const binDir = join(work, 'bin');
    await mkdir(binDir);
    await symlink(helper, join(binDir, 'docker-credential-mistrive'));
    const env: Record<string, string> = {
      PATH: `${binDir}:${process.env.PATH ?? '/usr/bin:/bin'}`,
      HOME: work,
      XDG_CONFIG_HOME: join(work, 'config'),
      MISTRIVE_CREDENTIAL_STORE: process.env.MISTRIVE_CREDENTIAL_STORE ?? 'file',
    };
    for (const name of ['DBUS_SESSION_BUS_ADDRESS', 'XDG_RUNTIME_DIR']) {
      const value = process.env[name];
      if (value) env[name] = value;
    }
    const login = await execa(
      process.execPath,
      [cli, 'auth', 'login', '--registry', registry.url, '--username', 'admin', '--password-stdin'],
      { env, extendEnv: false, input: password, reject: false },
    );
    if (login.exitCode !== 0) throw new Error(`sign-in failed: ${login.stderr}`);
    const host = new URL(registry.url).host;
    const check = await execa(helper, ['get'], { env, extendEnv: false, input: host });
    if (!check.stdout.includes('oauth2accesstoken')) throw new Error(`the helper answered ${check.stdout}`);

    const timings = [
      await time('node -e ""', `${process.execPath} -e ""`, env, work),
      await time(
        `docker-credential-mistrive get (cached token, ${env.MISTRIVE_CREDENTIAL_STORE} store)`,
        `echo ${host} | docker-credential-mistrive get`,
        env,
        work,
      ),
    ];
    for (const timing of timings) {
      console.log(
        `${timing.name}: median ${timing.medianMs.toFixed(1)} ms (min ${timing.minMs.toFixed(1)}, max ${timing.maxMs.toFixed(1)}, ${timing.runs} runs)`,
      );
    }
    const helperTiming = timings[1] as Timing;
    console.log(
      helperTiming.medianMs < 100
        ? 'target met: median under 100 ms'
        : 'target missed: median 100 ms or more',
    );
  } finally {
    await registry.close();
    await rm(work, { recursive: true, force: true });
  }
}

await main();
