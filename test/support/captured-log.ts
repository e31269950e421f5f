import { Writable } from 'node:stream';
import { pino } from 'pino';
import type { Logger } from '../../src/lib/logger.js';

/** A log line the daemon wrote, parsed. */
export interface LogLine {
  readonly msg: string;
  readonly [key: string]: unknown;
}

/** A logger for an in-process registry that keeps every line it writes, parsed and as written. */
export function capturingLogger(level: 'debug' | 'info' = 'info'): {
  logger: Logger;
  lines: LogLine[];
  text(): string;
} {
  const lines: LogLine[] = [];
  const raw: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      raw.push(chunk.toString());
      for (const line of chunk.toString().split('\n').filter(Boolean)) lines.push(JSON.parse(line));
      done();
    },
  });
  return { logger: pino({ level, base: undefined }, sink), lines, text: () => raw.join('') };
}
