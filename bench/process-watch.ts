import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';

const bytesPerMb = 1e6;

/** Kernel clock ticks per second, the unit of utime and stime in /proc/PID/stat. */
const ticksPerSecond = Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout.trim()) || 100;

/** A `/proc/PID/status` field in bytes (the kernel reports kB). */
function statusField(pid: number, field: 'VmRSS' | 'VmHWM'): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const match = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status);
  if (!match?.[1]) throw new Error(`no ${field} in /proc/${pid}/status`);
  return Number(match[1]) * 1024;
}

/** User plus system CPU time the process has used, in seconds. */
function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // The command name may hold spaces and parentheses; the numeric fields follow its last ')'.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // utime and stime are fields 14 and 15 of the whole line, 12 and 13 after the name.
  return (Number(fields[11]) + Number(fields[12])) / ticksPerSecond;
}

export interface PhaseCost<T> {
  readonly result: T;
  /** Peak RSS during the phase, in MB. */
  readonly peakRssMb: number;
  /** CPU seconds the process used during the phase: unlike wall time, barely moved by other load. */
  readonly cpuSeconds: number;
}

/**
 * What one daemon costs. The kernel's high-water mark (VmHWM) is exact but covers the whole life of
 * the process; to see the peak of one phase it is reset (clear_refs 5), so the overall peak is
 * folded in here before every reset.
 */
export class ProcessWatch {
  private overallPeak = 0;

  constructor(readonly pid: number) {}

  /** The peak RSS since the process started, in MB. */
  overallPeakMb(): number {
    this.foldPeak();
    return this.overallPeak / bytesPerMb;
  }

  /**
   * Runs `phase` and measures the process meanwhile. Peak RSS is the larger of the reset high-water
   * mark and VmRSS sampled every `everyMs` (the sampling also works where clear_refs is refused).
   */
  async duringPhase<T>(phase: () => Promise<T>, everyMs = 50): Promise<PhaseCost<T>> {
    this.foldPeak();
    const canReset = this.resetPeak();
    let sampled = statusField(this.pid, 'VmRSS');
    const cpuBefore = cpuSeconds(this.pid);
    const timer = setInterval(() => {
      try {
        sampled = Math.max(sampled, statusField(this.pid, 'VmRSS'));
      } catch {
        // The process is gone (stopped on Ctrl-C, or crashed): the phase itself reports that.
        clearInterval(timer);
      }
    }, everyMs);
    try {
      const result = await phase();
      const cpu = cpuSeconds(this.pid) - cpuBefore;
      sampled = Math.max(sampled, statusField(this.pid, 'VmRSS'));
      const peak = canReset ? Math.max(sampled, statusField(this.pid, 'VmHWM')) : sampled;
      return { result, peakRssMb: peak / bytesPerMb, cpuSeconds: cpu };
    } finally {
      clearInterval(timer);
    }
  }

  private foldPeak(): void {
    this.overallPeak = Math.max(this.overallPeak, statusField(this.pid, 'VmHWM'));
  }

  private resetPeak(): boolean {
    try {
      writeFileSync(`/proc/${this.pid}/clear_refs`, '5');
      return true;
    } catch {
      return false;
    }
  }
}
