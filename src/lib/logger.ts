import { pino } from 'pino';

export type Logger = pino.Logger;

export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';

/** Structured JSON lines on stderr, so stdout stays free for the ready line and command output. */
export function createLogger(level: LogLevel): Logger {
  return pino({ level, base: undefined }, pino.destination({ fd: 2, sync: false }));
}
