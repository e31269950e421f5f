import type { Logger } from '../lib/logger.js';

/**
 * Keeps the daemon up when a failure escapes every handler. Each request's own handling answers
 * what it can; whatever slips past it (a rejection nobody awaited, a throw in a stream callback)
 * would otherwise end the process, and with it every upload and pull in flight. It is logged with
 * its stack, as the bug it is, and the daemon goes on serving. Returns a function that removes the guard.
 */
export function guardProcess(logger: Logger): () => void {
  const onRejection = (reason: unknown) => {
    logger.error({ err: reason }, 'unhandled rejection; the daemon keeps running');
  };
  const onException = (error: Error) => {
    logger.error({ err: error }, 'uncaught exception; the daemon keeps running');
  };
  process.on('unhandledRejection', onRejection);
  process.on('uncaughtException', onException);
  return () => {
    process.off('unhandledRejection', onRejection);
    process.off('uncaughtException', onException);
  };
}
