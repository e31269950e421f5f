import { readdir, stat } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const repoRoot = fileURLToPath(new URL('..', import.meta.url));

/**
 * The daemon runs from the build, so a source file newer than its compiled output would measure
 * old code. Returns the stale sources, relative to the repository.
 */
export async function staleSources(): Promise<string[]> {
  const stale: string[] = [];
  for (const folder of ['src', 'commands']) {
    const entries = await readdir(join(repoRoot, folder), { recursive: true });
    for (const entry of entries) {
      if (!entry.endsWith('.ts') || entry.endsWith('.d.ts')) continue;
      const source = join(repoRoot, folder, entry);
      const built = join(repoRoot, 'dist', folder, entry.replace(/\.ts$/, '.js'));
      const [sourceInfo, builtInfo] = await Promise.all([stat(source), stat(built).catch(() => undefined)]);
      if (!builtInfo || builtInfo.mtimeMs < sourceInfo.mtimeMs) stale.push(relative(repoRoot, source));
    }
  }
  return stale;
}
