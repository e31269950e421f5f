import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const run = promisify(execFile);
const guard = fileURLToPath(new URL('../../dist/src/server/process-guard.js', import.meta.url));
const logger = fileURLToPath(new URL('../../dist/src/lib/logger.js', import.meta.url));

/** A process that installs the daemon's guard, then lets a rejection and a throw escape every handler. */
const script = `
  const { guardProcess } = await import(${JSON.stringify(guard)});
  const { createLogger } = await import(${JSON.stringify(logger)});
  guardProcess(createLogger('error'));
  Promise.reject(new Error('a rejection nobody awaited'));
  setTimeout(() => { throw new Error('a throw in a callback'); }, 10);
  setTimeout(() => process.stdout.write('still serving'), 100);
`;

describe('the daemon process guard', () => {
  it('logs a failure that escapes every handler, and the process keeps running', async () => {
    const { stdout, stderr } = await run(process.execPath, ['--input-type=module', '-e', script]);
    expect(stdout).toBe('still serving');
    const lines = stderr
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as { msg: string; err: { message: string } });
    expect(lines.map((line) => [line.msg, line.err.message])).toEqual([
      ['unhandled rejection; the daemon keeps running', 'a rejection nobody awaited'],
      ['uncaught exception; the daemon keeps running', 'a throw in a callback'],
    ]);
  });
});
