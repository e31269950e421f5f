import { mkdir, writeFile } from 'node:fs/promises';
import { cpus, loadavg } from 'node:os';
import { resolve } from 'node:path';
import { staleSources } from './build-check.js';
import { Cleanup } from './cleanup.js';
import { measure } from './measure.js';
import { type BenchOptions, parseOptions, usage } from './options.js';
import { formatNumber, renderFigures, renderTargets } from './report.js';
import { ceilingOf, checkTargets, figuresOf } from './results.js';
import { consoleFigures, consoleTarget, runConsoleScenario } from './scenarios/console-page.js';
import { rateLimitFigures, rateLimitTarget, runRateLimitScenario } from './scenarios/rate-limit-cost.js';
import { since } from './stats.js';

/** `npm run bench`: mistrive serve against the reference registry, figures, targets, JSON results. */
async function main(cleanup: Cleanup): Promise<number> {
  const parsed = parseOptions(process.argv.slice(2));
  if (parsed === 'help') {
    console.log(usage);
    return 0;
  }
  const options: BenchOptions = parsed;
  const stale = await staleSources();
  if (stale.length > 0) {
    // A warning, not a stop: work in progress elsewhere in src/ need not block a measurement.
    console.error(
      `warning: the build is older than ${stale.slice(0, 5).join(', ')}${stale.length > 5 ? ', ...' : ''}; ` +
        'the daemon runs the build (npm run build)',
    );
  }

  cleanup.install();
  const startedAt = new Date();
  const started = performance.now();
  const progress = (message: string) =>
    console.error(`[${(since(started) / 1000).toFixed(1).padStart(6)} s] ${message}`);
  try {
    if (options.consoleOnly) {
      const result = await runConsoleScenario(cleanup, options, progress);
      const target = consoleTarget(result);
      console.log(`\nmistrive serve, web console (loopback, ${cpus().length} CPUs, ${process.version})\n`);
      console.log(renderFigures(consoleFigures(result)));
      console.log(`\n${renderTargets([target])}`);
      return target.pass ? 0 : 1;
    }
    if (options.limitsOnly) {
      const result = await runRateLimitScenario(cleanup, options, progress);
      const target = rateLimitTarget(result);
      console.log(
        `\nmistrive serve, rate limiter cost (loopback, ${cpus().length} CPUs, ${process.version})\n`,
      );
      console.log(renderFigures(rateLimitFigures(result)));
      console.log(`\n${renderTargets([target])}`);
      return target.pass ? 0 : 1;
    }
    const loadBefore = loadavg()[0] ?? 0;
    const measured = await measure(options, cleanup, progress);
    const consolePage = await runConsoleScenario(cleanup, options, progress);
    const rateLimits = await runRateLimitScenario(cleanup, options, progress);
    const measurements = { ...measured, consolePage, rateLimits };
    const loadAfter = loadavg()[0] ?? 0;
    const figures = [
      ...figuresOf(measurements, options),
      ...consoleFigures(consolePage),
      ...rateLimitFigures(rateLimits),
    ];
    const ceiling = ceilingOf(measurements);
    const targets = [
      ...checkTargets(figures, ceiling, measurements),
      consoleTarget(consolePage),
      rateLimitTarget(rateLimits),
    ];
    const seconds = since(started) / 1000;

    console.log(
      `\nmistrive serve vs ${options.referenceCommand} (loopback, ${cpus().length} CPUs, ${process.version})`,
    );
    if (options.reduced) console.log('reduced sizes or durations: the targets are meant for a full run');
    console.log(`ratio = mistrive / reference; medians of ${options.rounds} round(s)`);
    console.log(
      `load average ${loadBefore.toFixed(1)} before, ${loadAfter.toFixed(1)} after` +
        (Math.max(loadBefore, loadAfter) > 1 ? ': other work ran on the machine, expect noise' : '') +
        '\n',
    );
    console.log(renderFigures(figures));
    console.log(
      '\nThe blob pull hashes what it receives, as clients do: one core hashes SHA-256 at about 1 GB/s, so\n' +
        'that client is the limit whichever server it talks to. The curl pull skips the check and shows\n' +
        'what each server can send; the pull target is judged on it.',
    );
    console.log(
      `\nceiling, a bare node:http server receiving the same PUT (SHA-256, 1 MiB writes, fdatasync): ` +
        `${formatNumber(ceiling.mbPerSecond, 0)} MB/s at ${formatNumber(ceiling.cpuSecondsPerGb, 2)} CPU s per GB; ` +
        `mistrive reaches ${formatNumber(ceiling.mistrivePercent, 0)} % of it, the reference ${formatNumber(ceiling.referencePercent, 0)} %\n`,
    );
    console.log(renderTargets(targets));

    const outDir = resolve(options.outDir);
    await mkdir(outDir, { recursive: true });
    const outFile = resolve(outDir, `bench-${startedAt.toISOString().replace(/[:.]/g, '-')}.json`);
    const pass = targets.every((t) => t.pass);
    const results = {
      startedAt: startedAt.toISOString(),
      seconds,
      machine: {
        node: process.version,
        cpus: cpus().length,
        cpuModel: cpus()[0]?.model,
        loadAverage: { before: loadBefore, after: loadAfter },
      },
      options,
      figures,
      ceiling,
      targets,
      pass,
      raw: measurements,
    };
    await writeFile(outFile, `${JSON.stringify(results, null, 2)}\n`);
    console.log(`\nbench took ${seconds.toFixed(0)} s; results in ${outFile}`);
    return pass ? 0 : 1;
  } finally {
    await cleanup.run();
  }
}

const cleanup = new Cleanup();
main(cleanup).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    if (cleanup.interrupted) return;
    console.error(error instanceof Error ? (error.stack ?? error.message) : error);
    process.exitCode = 2;
  },
);
