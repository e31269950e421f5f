import { request } from 'node:http';
import type { Cleanup } from '../cleanup.js';
import { mistriveAdmin, type RunningServer, startMistrive } from '../daemons.js';
import type { BenchOptions } from '../options.js';
import { sha256, withClient } from '../registry-client.js';
import { type Figure, formatNumber, type TargetCheck } from '../report.js';
import { percentile } from '../stats.js';
import { imageManifestOf, imageManifestType, layer } from '../test-data.js';

/**
 * The web console's image page: one server-rendered page of 100 digests out of many, signed in as
 * the administrator, requested one after another as a person clicking through would.
 */

export interface ConsolePageResult {
  readonly digests: number;
  readonly seedSeconds: number;
  /** Latencies of the first page (newest first), of a page deep in the list, and of the untagged filter. */
  readonly first: Latencies;
  readonly deep: Latencies;
  readonly untagged: Latencies;
}

export interface Latencies {
  readonly p50Ms: number;
  readonly p95Ms: number;
  readonly maxMs: number;
  readonly samples: number;
  /** The server's CPU time per page: what the page costs, whatever else the machine runs. */
  readonly serverCpuMs: number;
}

const image = 'bench/console/app';
const rowsPerPage = 100;

/** Pushes `count` manifests over one config and one layer, every tenth tagged, `concurrency` at a time. */
async function seed(server: RunningServer, count: number, concurrency: number): Promise<void> {
  const config = layer(
    Buffer.from(
      JSON.stringify({
        architecture: 'amd64',
        os: 'linux',
        created: '2026-01-01T00:00:00Z',
        rootfs: { type: 'layers', diff_ids: [] },
      }),
    ),
  );
  const content = layer(Buffer.from('console bench layer'));
  await withClient(
    server,
    image,
    async (client) => {
      for (const blob of [config, content]) await client.pushBlob(image, blob.digest, blob.bytes);
      let next = 0;
      const worker = async () => {
        for (let index = next++; index < count; index = next++) {
          const manifest = imageManifestOf(config, [content], { 'org.example.build': String(index) });
          const reference = index % 10 === 0 ? `build-${index}` : sha256(manifest);
          await client.putManifest(image, reference, imageManifestType, manifest);
        }
      };
      await Promise.all(Array.from({ length: concurrency }, worker));
    },
    concurrency,
  );
}

interface Response {
  readonly status: number;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly body: string;
}

function get(url: string, headers: Record<string, string>, body?: string): Promise<Response> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: body === undefined ? 'GET' : 'POST', headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () =>
        resolve({
          status: res.statusCode ?? 0,
          headers: res.headers,
          body: Buffer.concat(chunks).toString('utf8'),
        }),
      );
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}

const cookiesOf = (response: Response) =>
  ((response.headers['set-cookie'] as string[] | undefined) ?? [])
    .map((cookie) => cookie.split(';')[0] as string)
    .filter((pair) => !pair.endsWith('='))
    .join('; ');

/** Signs in through the login form, as a browser does; returns the session cookie. */
async function signIn(base: string): Promise<string> {
  const form = await get(`${base}/login`, {});
  const token = /name="csrf_token" value="([^"]+)"/.exec(form.body)?.[1] ?? '';
  const body = new URLSearchParams({
    csrf_token: token,
    login: mistriveAdmin.username,
    password: mistriveAdmin.password,
  }).toString();
  const signedIn = await get(
    `${base}/login`,
    {
      Cookie: cookiesOf(form),
      'Content-Type': 'application/x-www-form-urlencoded',
      'Content-Length': String(Buffer.byteLength(body)),
    },
    body,
  );
  if (signedIn.status !== 303) throw new Error(`console sign-in failed: HTTP ${signedIn.status}`);
  return cookiesOf(signedIn);
}

async function timePage(
  server: RunningServer,
  url: string,
  cookie: string,
  samples: number,
  rows: number,
): Promise<Latencies> {
  // The first ten warm the caches and the JIT, as a running server's would be.
  for (let i = 0; i < 10; i++) await get(url, { Cookie: cookie });
  const { result: times, cpuSeconds } = await server.watch.duringPhase(() =>
    timed(url, cookie, samples, rows),
  );
  const sorted = times.sort((a, b) => a - b);
  return {
    p50Ms: percentile(sorted, 50),
    p95Ms: percentile(sorted, 95),
    maxMs: sorted.at(-1) ?? 0,
    samples,
    serverCpuMs: (cpuSeconds * 1000) / samples,
  };
}

async function timed(url: string, cookie: string, samples: number, rows: number): Promise<number[]> {
  const times: number[] = [];
  for (let i = 0; i < samples; i++) {
    const started = performance.now();
    const response = await get(url, { Cookie: cookie });
    const ms = performance.now() - started;
    if (response.status !== 200) throw new Error(`${url}: HTTP ${response.status}`);
    const shown = response.body.split('data-label="Digest"').length - 1;
    if (shown !== rows) throw new Error(`${url}: ${shown} digests on the page, expected ${rows}`);
    times.push(ms);
  }
  return times;
}

/** Seeds the digests, then times the first page, a page 50 pages deep, and the untagged filter. */
export async function measureConsolePage(
  server: RunningServer,
  digests: number,
  samples: number,
  progress: (message: string) => void,
): Promise<ConsolePageResult> {
  progress(`console: pushing ${digests} manifests of one image`);
  const seedStarted = performance.now();
  await seed(server, digests, 16);
  const seedSeconds = (performance.now() - seedStarted) / 1000;
  const cookie = await signIn(server.url);
  const page = `${server.url}/projects/bench/repositories/console/images/app`;
  progress('console: timing the first page of 100 digests');
  const first = await timePage(server, page, cookie, samples, rowsPerPage);
  // Walk to a page deep in the list through the Next links, as a person would.
  let deepUrl = page;
  for (let hop = 0; hop < Math.min(50, Math.floor(digests / rowsPerPage) - 1); hop++) {
    const body = (await get(deepUrl, { Cookie: cookie })).body;
    const next = /href="\?([^"]*page=[^"]*)">Next/.exec(body)?.[1];
    if (!next) throw new Error(`no Next link after ${hop} pages`);
    deepUrl = `${page}?${next.replaceAll('&amp;', '&')}`;
  }
  progress('console: timing a page 50 pages deep');
  const deep = await timePage(server, deepUrl, cookie, samples, rowsPerPage);
  progress('console: timing the untagged filter');
  const untagged = await timePage(server, `${page}?tags=untagged`, cookie, samples, rowsPerPage);
  return { digests, seedSeconds, first, deep, untagged };
}

/** The target of DESIGN's console: a page of 100 digests out of 10,000 under 50 ms at p95. */
export const consolePageTargetMs = 50;

export function consoleFigures(result: ConsolePageResult): Figure[] {
  const of = (key: string, label: string, value: number, samples: readonly number[] = [value]): Figure => ({
    key,
    label,
    unit: 'ms',
    digits: 1,
    mistrive: value,
    reference: undefined,
    samples: { mistrive: samples },
  });
  const n = result.digests.toLocaleString('en-US');
  return [
    of('consoleFirstP95', `console image page, 100 of ${n} digests, p95`, result.first.p95Ms),
    of('consoleFirstP50', 'console image page, p50', result.first.p50Ms),
    of('consoleFirstCpu', 'console image page, server CPU per page', result.first.serverCpuMs),
    of('consoleDeepP95', 'console image page 50 pages deep, p95', result.deep.p95Ms),
    of('consoleUntaggedP95', 'console image page, untagged filter, p95', result.untagged.p95Ms),
    { ...of('consoleSeed', `seeding ${n} manifests over /v2/`, result.seedSeconds), unit: 's' },
  ];
}

export function consoleTarget(result: ConsolePageResult): TargetCheck {
  const worst = Math.max(result.first.p95Ms, result.deep.p95Ms, result.untagged.p95Ms);
  return {
    label: `console page of 100 of ${result.digests.toLocaleString('en-US')} digests < ${consolePageTargetMs} ms at p95`,
    measured: `${formatNumber(worst, 1)} ms (worst of first, deep and untagged pages)`,
    pass: result.digests >= 10_000 && worst < consolePageTargetMs,
  };
}

/** Starts a daemon of its own (a fresh data directory), measures the console page, stops it. */
export async function runConsoleScenario(
  cleanup: Cleanup,
  options: Pick<BenchOptions, 'consoleDigests' | 'consoleSamples'>,
  progress: (message: string) => void,
): Promise<ConsolePageResult> {
  const dataDir = await cleanup.tempDir('mistrive-bench-console-');
  const server = await startMistrive(cleanup, dataDir);
  try {
    return await measureConsolePage(server, options.consoleDigests, options.consoleSamples, progress);
  } finally {
    await server.stop();
  }
}
