import { parseArgs } from 'node:util';

export interface BenchOptions {
  /** Size of the single-layer blob pushed and pulled. */
  readonly bigBlobBytes: number;
  /** Measurements per server for the blob and image scenarios; the order rotates each round. */
  readonly rounds: number;
  readonly layerCount: number;
  readonly layerBytes: number;
  /** Layer uploads and downloads in flight at once, as container clients do. */
  readonly layerConcurrency: number;
  readonly connections: number;
  readonly loadSeconds: number;
  readonly warmupSeconds: number;
  /** How many cold starts the time-to-ready median is taken over. */
  readonly starts: number;
  readonly referenceCommand: string;
  readonly outDir: string;
  /** Digests of the image whose console page is timed. */
  readonly consoleDigests: number;
  /** Timed requests per console page. */
  readonly consoleSamples: number;
  /** Only the console page scenario (no reference registry needed). */
  readonly consoleOnly: boolean;
  /** Only the rate limiter's cost (no reference registry needed). */
  readonly limitsOnly: boolean;
  /** True when sizes or durations differ from the defaults the targets are meant for. */
  readonly reduced: boolean;
}

const mib = 1024 * 1024;

export const usage = `Usage: npm run bench -- [options]

Compares mistrive serve with the reference registry (docker-registry) on loopback.

  --big-mib N         size of the big blob in MiB (default 1024)
  --rounds N          measurements per server for blobs and images (default 2)
  --layers N          layers in the many-layer image (default 200, 64 KiB each)
  --load-seconds N    length of each manifest load test (default 10)
  --starts N          cold starts for the time-to-ready median (default 5)
  --console-digests N digests behind the timed console page (default 10000)
  --console-only      only the console page scenario
  --limits-only       only the rate limiter's cost (manifest HEAD, limits on vs off)
  --reference CMD     the reference registry's command (default docker-registry)
  --out DIR           where the JSON results go (default .bench)
  --quick             a short run to try the harness: 128 MiB, 1 round, 3 s loads
  -h, --help          this help

Exits 1 when a target is missed.`;

export function parseOptions(argv: readonly string[]): BenchOptions | 'help' {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      'big-mib': { type: 'string' },
      rounds: { type: 'string' },
      layers: { type: 'string' },
      'load-seconds': { type: 'string' },
      starts: { type: 'string' },
      reference: { type: 'string' },
      'console-digests': { type: 'string' },
      'console-only': { type: 'boolean', default: false },
      'limits-only': { type: 'boolean', default: false },
      out: { type: 'string' },
      quick: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) return 'help';
  const quick = values.quick;
  const options = {
    bigBlobBytes: positive('big-mib', values['big-mib'], quick ? 128 : 1024) * mib,
    rounds: positive('rounds', values.rounds, quick ? 1 : 2),
    layerCount: positive('layers', values.layers, 200),
    layerBytes: 64 * 1024,
    layerConcurrency: 4,
    connections: 64,
    loadSeconds: positive('load-seconds', values['load-seconds'], quick ? 3 : 10),
    warmupSeconds: quick ? 1 : 2,
    starts: positive('starts', values.starts, quick ? 3 : 5),
    referenceCommand: values.reference ?? 'docker-registry',
    outDir: values.out ?? '.bench',
    consoleDigests: positive('console-digests', values['console-digests'], 10_000),
    consoleSamples: quick ? 100 : 300,
    consoleOnly: values['console-only'],
    limitsOnly: values['limits-only'],
  };
  const reduced =
    options.bigBlobBytes !== 1024 * mib ||
    options.layerCount !== 200 ||
    options.loadSeconds < 10 ||
    options.consoleDigests < 10_000;
  return { ...options, reduced };
}

function positive(flag: string, text: string | undefined, fallback: number): number {
  if (text === undefined) return fallback;
  const value = Number(text);
  if (!Number.isInteger(value) || value < 1)
    throw new Error(`--${flag} wants a positive whole number, not "${text}"`);
  return value;
}
