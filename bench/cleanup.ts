import type { ChildProcess } from 'node:child_process';
import { rmSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * Everything the benchmark leaves behind (child processes, temporary directories), undone once on
 * the way out: normal end, failure, Ctrl-C or SIGTERM. A 1 GiB file must never outlive a run.
 */
export class Cleanup {
  private readonly children = new Set<ChildProcess>();
  private readonly dirs = new Set<string>();
  private running: Promise<void> | undefined;
  private done = false;
  /** Set once Ctrl-C or SIGTERM arrived: failures after it are the daemons being stopped, not news. */
  interrupted = false;

  /** Installs the signal and exit handlers; call once, early. */
  install(): void {
    const onSignal = (signal: NodeJS.Signals) => {
      this.interrupted = true;
      process.stderr.write(`\n${signal}: stopping the daemons and removing temporary files\n`);
      void this.run().finally(() => process.exit(signal === 'SIGINT' ? 130 : 143));
    };
    process.once('SIGINT', onSignal);
    process.once('SIGTERM', onSignal);
    // Last resort when something calls process.exit() or throws: only synchronous work is possible here.
    process.once('exit', () => this.runSync());
  }

  track(child: ChildProcess): ChildProcess {
    this.children.add(child);
    child.once('exit', () => this.children.delete(child));
    return child;
  }

  async tempDir(prefix: string): Promise<string> {
    const path = await mkdtemp(join(tmpdir(), prefix));
    this.dirs.add(path);
    return path;
  }

  async removeDir(path: string): Promise<void> {
    await rm(path, { recursive: true, force: true });
    this.dirs.delete(path);
  }

  /** SIGTERM each child, SIGKILL what is still running after two seconds, then remove the directories. */
  run(): Promise<void> {
    this.running ??= (async () => {
      await Promise.all([...this.children].map((child) => stopChild(child)));
      for (const dir of this.dirs) await rm(dir, { recursive: true, force: true });
      this.dirs.clear();
      this.done = true;
    })();
    return this.running;
  }

  private runSync(): void {
    if (this.done) return;
    for (const child of this.children) child.kill('SIGKILL');
    for (const dir of this.dirs) rmSync(dir, { recursive: true, force: true });
    this.done = true;
  }
}

export async function stopChild(child: ChildProcess, graceMs = 2_000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
  await exited;
  clearTimeout(timer);
}
