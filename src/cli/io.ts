import { createInterface } from 'node:readline/promises';
import ora, { type Ora } from 'ora';
import { CliError } from './errors.js';
import type { RenderTarget } from './render.js';

/** The streams a command talks through, and what they are connected to. */
export interface CliIo {
  readonly stdout: NodeJS.WritableStream;
  readonly stderr: NodeJS.WritableStream;
  readonly stdin: NodeJS.ReadableStream & { isTTY?: boolean };
  /** How stdout renders: aligned and coloured on a terminal, tab-separated when piped. */
  readonly target: RenderTarget;
  /** Whether stderr is a terminal (spinners and prompts go there). */
  readonly stderrTty: boolean;
  readonly color: boolean;
}

/** Colour only on a terminal, and never when NO_COLOR is set (https://no-color.org) or TERM is dumb. */
export function colorAllowed(env: NodeJS.ProcessEnv, tty: boolean): boolean {
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== '') return false;
  if (env.TERM === 'dumb') return false;
  return tty;
}

export function processIo(env: NodeJS.ProcessEnv): CliIo {
  const stdoutTty = process.stdout.isTTY === true;
  const stderrTty = process.stderr.isTTY === true;
  return {
    stdout: process.stdout,
    stderr: process.stderr,
    stdin: process.stdin,
    target: { tty: stdoutTty, color: colorAllowed(env, stdoutTty) },
    stderrTty,
    color: colorAllowed(env, stderrTty),
  };
}

export interface Spinner {
  update(text: string): void;
  succeed(text?: string): void;
  fail(text?: string): void;
  stop(): void;
}

const silent: Spinner = { update() {}, succeed() {}, fail() {}, stop() {} };

/** A spinner on stderr while waiting, only on a terminal and never with --json; silent otherwise. */
export function startSpinner(io: CliIo, text: string, enabled: boolean): Spinner {
  // A terminal of unknown width (some pseudo-terminals say 0 columns) cannot be redrawn in place.
  const columns = (io.stderr as NodeJS.WriteStream).columns;
  if (!enabled || !io.stderrTty || !(columns > 0)) return silent;
  const spinner: Ora = ora({
    text,
    stream: io.stderr as NodeJS.WritableStream & { isTTY: true },
    color: io.color ? 'cyan' : false,
    isEnabled: true,
  }).start();
  // ora's own symbols are coloured whatever NO_COLOR says: plain ones when colour is off.
  const end = (symbol: string, coloured: (message?: string) => void, message?: string) => {
    if (io.color) coloured(message);
    else spinner.stopAndPersist({ symbol, text: message ?? spinner.text });
  };
  return {
    update: (next) => {
      spinner.text = next;
    },
    succeed: (message) => end('✔', (m) => spinner.succeed(m), message),
    fail: (message) => end('✖', (m) => spinner.fail(m), message),
    stop: () => {
      spinner.stop();
    },
  };
}

/** Reads all of stdin (`--password-stdin`), without the final newline. */
export async function readAllStdin(io: CliIo): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of io.stdin)
    chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk)));
  return Buffer.concat(chunks)
    .toString('utf8')
    .replace(/\r?\n$/, '');
}

/** Asks a yes/no question on the terminal; anything but y or yes is no. */
export async function confirm(io: CliIo, question: string): Promise<boolean> {
  const prompt = createInterface({ input: io.stdin, output: io.stderr });
  try {
    return /^y(es)?$/i.test((await prompt.question(`${question} [y/N] `)).trim());
  } finally {
    prompt.close();
  }
}

/**
 * Asks for a secret on the terminal without echoing it: the terminal is put in raw mode while the
 * person types (Backspace and Ctrl-U edit, Enter ends, Ctrl-C cancels).
 */
export async function promptSecret(io: CliIo, question: string): Promise<string> {
  const stdin = io.stdin as NodeJS.ReadStream;
  io.stderr.write(question);
  stdin.setRawMode(true);
  stdin.setEncoding('utf8');
  stdin.resume();
  let secret = '';
  try {
    return await new Promise<string>((resolve, reject) => {
      const onData = (chunk: string) => {
        for (const char of chunk) {
          if (char === '\r' || char === '\n' || char === '\u0004') {
            stdin.off('data', onData);
            return resolve(secret);
          }
          if (char === '\u0003') {
            stdin.off('data', onData);
            return reject(new CliError('CANCELLED', 'the password prompt was cancelled'));
          }
          if (char === '\u007f' || char === '\b') secret = [...secret].slice(0, -1).join('');
          else if (char === '\u0015') secret = '';
          else if (char >= ' ') secret += char;
        }
      };
      stdin.on('data', onData);
    });
  } finally {
    stdin.setRawMode(false);
    stdin.pause();
    io.stderr.write('\n');
  }
}
