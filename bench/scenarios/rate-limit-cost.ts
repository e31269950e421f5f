import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Cleanup } from '../cleanup.js';
import { type RunningServer, startMistrive } from '../daemons.js';
import { pushSmallImage } from '../measure.js';
import type { BenchOptions } from '../options.js';
import { type Figure, formatNumber, type TargetCheck } from '../report.js';
import { median, rotate } from '../stats.js';
import { randomImage } from '../test-data.js';
import { type LoadResult, loadManifest } from './manifest-load.js';

/**
 * What the rate limiter costs: manifest HEAD throughput at 64 connections against a daemon with
 * limits on (rates far above what the load reaches, so every request draws tokens and carries the
 * headers, and none is refused) and one with limits off, in alternating order.
 */

export interface RateLimitCostResult {
  readonly off: readonly LoadResult[];
  readonly on: readonly LoadResult[];
}

export const rateLimitCostTarget = 0.9;

/** Rates no bench load reaches: the limiter does all its work, and refuses nothing. */
const unreachedLimits = [
  'rateLimits:',
  '  pull: 1000000000/s',
  '  push: 1000000000/s',
  '  repositoryPull: 1000000000/s',
  '  repositoryPush: 1000000000/s',
  '',
].join('\n');

export async function runRateLimitScenario(
  cleanup: Cleanup,
  options: Pick<BenchOptions, 'connections' | 'loadSeconds' | 'warmupSeconds' | 'rounds'>,
  progress: (message: string) => void,
): Promise<RateLimitCostResult> {
  const work = await cleanup.tempDir('mistrive-bench-limits-');
  const config = join(work, 'limits.yaml');
  await writeFile(config, unreachedLimits);
  const servers: Record<'off' | 'on', RunningServer> = {
    off: await startMistrive(cleanup, join(work, 'off')),
    on: await startMistrive(cleanup, join(work, 'on'), { args: ['--config', config] }),
  };
  try {
    const image = randomImage(3, 1024);
    for (const server of Object.values(servers)) await pushSmallImage(server, image);
    const results: Record<'off' | 'on', LoadResult[]> = { off: [], on: [] };
    const load = {
      connections: options.connections,
      seconds: options.loadSeconds,
      warmupSeconds: options.warmupSeconds,
    };
    for (let round = 0; round < Math.max(2, options.rounds); round++) {
      for (const which of rotate(['off', 'on'] as const, round)) {
        progress(
          `manifest HEAD at ${options.connections} connections, rate limits ${which}, round ${round + 1}`,
        );
        const measured = await loadManifest(servers[which], 'bench/load/app', 'latest', 'HEAD', load);
        progress(
          `  ${Math.round(measured.requestsPerSecond)} req/s, ${Math.round(measured.cpuMicrosPerRequest)} µs CPU per request`,
        );
        results[which].push(measured);
      }
    }
    return results;
  } finally {
    await Promise.all(Object.values(servers).map((server) => server.stop()));
  }
}

const throughput = (results: readonly LoadResult[]) => median(results.map((r) => r.requestsPerSecond));

export function rateLimitFigures(result: RateLimitCostResult): Figure[] {
  const of = (key: string, label: string, results: readonly LoadResult[]): Figure => ({
    key,
    label,
    unit: 'req/s',
    digits: 0,
    mistrive: throughput(results),
    reference: undefined,
    samples: { mistrive: results.map((r) => r.requestsPerSecond) },
  });
  const cpu = (key: string, label: string, results: readonly LoadResult[]): Figure => ({
    key,
    label,
    unit: 'µs',
    digits: 0,
    mistrive: median(results.map((r) => r.cpuMicrosPerRequest)),
    reference: undefined,
    samples: { mistrive: results.map((r) => r.cpuMicrosPerRequest) },
  });
  return [
    of('manifestHeadLimitsOff', 'manifest HEAD, rate limits off', result.off),
    of('manifestHeadLimitsOn', 'manifest HEAD, rate limits on (not reached)', result.on),
    cpu('manifestHeadLimitsOffCpu', 'server CPU per HEAD, rate limits off', result.off),
    cpu('manifestHeadLimitsOnCpu', 'server CPU per HEAD, rate limits on', result.on),
  ];
}

export function rateLimitTarget(result: RateLimitCostResult): TargetCheck {
  const ratio = throughput(result.on) / throughput(result.off);
  const failures = [...result.on, ...result.off].reduce((total, r) => total + r.failures, 0);
  return {
    label: `manifest HEAD with rate limits on >= ${rateLimitCostTarget} x off`,
    measured: `${formatNumber(ratio, 2)} x${failures > 0 ? `, ${failures} failed requests` : ''}`,
    pass: ratio >= rateLimitCostTarget && failures === 0,
  };
}
