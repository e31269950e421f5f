import type { Result } from 'execa';
import type { ScanningConfig } from '../config/config.js';
import { ScanCancelled, ScanFailure, type Scanner, type ScanReport } from './scanner.js';
import { excerpt, parseTrivyReport, ReportError } from './trivy-report.js';

/** execa costs a tenth of a second to load: loaded with the first scan, not with the daemon. */
const loadExeca = async () => (await import('execa')).execa;

type TrivyConfig = ScanningConfig['trivy'];

/** Reports of large images run to tens of megabytes. */
const maxReportBytes = 512 * 1024 * 1024;
/** `trivy version` answers from its cache; it never needs long. */
const versionTimeout = 30_000;
/** After SIGTERM on a timeout, Trivy gets this long to clean up before SIGKILL. */
const killGrace = 5_000;

/** The arguments of `trivy image` for the layout at `layoutDir`. */
export function trivyArguments(config: TrivyConfig, layoutDir: string, timeout: number): string[] {
  const args = ['image', '--input', layoutDir, '--format', 'json', '--quiet', '--scanners', 'vuln'];
  // Trivy's own deadline; the daemon stops it at the same moment if it overruns.
  args.push('--timeout', `${Math.max(1, Math.ceil(timeout / 1000))}s`);
  if (config.cacheDir) args.push('--cache-dir', config.cacheDir);
  if (config.server) {
    // Client/server mode: the server holds the database, so the database options do not apply here.
    args.push('--server', config.server);
  } else {
    if (config.skipDbUpdate) args.push('--skip-db-update');
    if (config.dbRepository) args.push('--db-repository', config.dbRepository);
  }
  if (config.offlineScan) args.push('--offline-scan');
  args.push(...config.extraArgs);
  return args;
}

/**
 * Runs the Trivy program (`trivy image --input LAYOUT --format json …`), standalone or as the client
 * of a Trivy server, and turns what it printed into a report or a ScanFailure saying why not.
 */
export class TrivyScanner implements Scanner {
  constructor(private readonly config: TrivyConfig) {}

  async scan(layoutDir: string, options: { timeout: number; signal: AbortSignal }): Promise<ScanReport> {
    const version = await this.version(options.signal);
    const execa = await loadExeca();
    const result = await execa(this.config.path, trivyArguments(this.config, layoutDir, options.timeout), {
      reject: false,
      stdin: 'ignore',
      timeout: options.timeout,
      cancelSignal: options.signal,
      forceKillAfterDelay: killGrace,
      maxBuffer: maxReportBytes,
      stripFinalNewline: false,
    });
    this.checkRan(result, options.timeout);
    try {
      const report = parseTrivyReport(result.stdout);
      return {
        findings: report.findings,
        summary: report.summary,
        scannerVersion: version ?? report.scannerVersion ?? 'unknown',
      };
    } catch (error) {
      if (error instanceof ReportError) throw new ScanFailure('permanent', error.message);
      throw error;
    }
  }

  /**
   * `trivy version --format json`: the version that scans, recorded with each result. A Trivy that
   * cannot be run at all is reported here; any other trouble leaves the version to the report.
   */
  private async version(signal: AbortSignal): Promise<string | undefined> {
    const execa = await loadExeca();
    const result = await execa(this.config.path, ['version', '--format', 'json'], {
      reject: false,
      stdin: 'ignore',
      timeout: versionTimeout,
      cancelSignal: signal,
    });
    if (result.isCanceled) throw new ScanCancelled('the scan was stopped');
    this.checkAvailable(result);
    if (result.failed) return undefined;
    try {
      const parsed = JSON.parse(result.stdout) as { Version?: unknown };
      if (typeof parsed.Version === 'string' && parsed.Version !== '') return parsed.Version;
    } catch {
      // Older versions print `Version: 0.x.y` whatever the format asked for.
    }
    return /Version:\s*(\S+)/.exec(result.stdout)?.[1];
  }

  private checkAvailable(result: Result): void {
    const code = (result as { code?: unknown }).code;
    if (code === 'ENOENT' || code === 'EACCES') {
      const where = this.config.path.includes('/')
        ? `at ${this.config.path}`
        : `on PATH (looked for "${this.config.path}")`;
      const problem = code === 'ENOENT' ? 'not found' : 'not executable';
      throw new ScanFailure(
        'unavailable',
        `Trivy is ${problem} ${where}: install Trivy, or set scanning.trivy.path to where it is`,
      );
    }
  }

  private checkRan(result: Result, timeout: number): void {
    if (result.isCanceled) throw new ScanCancelled('the scan was stopped');
    this.checkAvailable(result);
    if (result.timedOut) {
      throw new ScanFailure(
        'transient',
        `Trivy did not finish within ${formatDuration(timeout)} and was stopped`,
      );
    }
    if (result.signal) {
      throw new ScanFailure('transient', `Trivy was killed by ${result.signal}${lastLines(result.stderr)}`);
    }
    if (result.exitCode !== 0) {
      if (result.exitCode === undefined) {
        throw new ScanFailure('transient', `Trivy could not be run: ${result.shortMessage}`);
      }
      throw new ScanFailure(
        'transient',
        `Trivy exited with code ${result.exitCode}${lastLines(result.stderr)}`,
      );
    }
  }
}

/** The end of what Trivy wrote to stderr (its error), for the reason a person reads. */
function lastLines(stderr: unknown): string {
  if (typeof stderr !== 'string') return '';
  const lines = stderr
    .split('\n')
    .map((line) => line.trim())
    .filter(Boolean);
  if (lines.length === 0) return '';
  return `: ${excerpt(lines.slice(-3).join(' '), 500)}`;
}

function formatDuration(ms: number): string {
  if (ms % 60_000 === 0) return `${ms / 60_000}m`;
  if (ms % 1000 === 0) return `${ms / 1000}s`;
  return `${ms}ms`;
}
