import { createInterface } from 'node:readline/promises';
import { Writable } from 'node:stream';
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
    target: {
      tty: stdoutTty,
      color: colorAllowed(env, stdoutTty),
      ...(stdoutTty && process.stdout.columns > 0 ? { width: process.stdout.columns } : {}),
    },
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

/** Whether a person can be asked something: stdin and stderr are both a terminal. */
export function canPrompt(io: CliIo): boolean {
  return io.stderrTty && io.stdin.isTTY === true;
}

/**
 * Asks for secrets on the terminal, one question after another, without echoing what is typed. One
 * reader for every answer, so that lines typed ahead are not lost between questions. Ctrl-C or
 * Ctrl-D cancels with `cancelled`.
 */
export async function promptSecrets(
  io: CliIo,
  questions: readonly string[],
  cancelled: string,
): Promise<string[]> {
  // Raw mode (readline's `terminal`) stops the terminal's echo; the muted output stops readline's.
  const muted = new Writable({ write: (_chunk, _encoding, done) => done() });
  const prompt = createInterface({ input: io.stdin, output: muted, terminal: true });
  const lines = prompt[Symbol.asyncIterator]();
  const interrupted = new Promise<never>((_, reject) =>
    prompt.once('SIGINT', () => reject(new CliError('CANCELLED', cancelled))),
  );
  interrupted.catch(() => {});
  try {
    const answers: string[] = [];
    for (const question of questions) {
      io.stderr.write(question);
      const next = await Promise.race([lines.next(), interrupted]);
      io.stderr.write('\n');
      if (next.done) throw new CliError('CANCELLED', cancelled);
      answers.push(next.value);
    }
    return answers;
  } finally {
    prompt.close();
  }
}

/** Asks for one secret on the terminal without echoing it (see `promptSecrets`). */
export async function promptSecret(io: CliIo, question: string): Promise<string> {
  const [secret] = await promptSecrets(io, [question], 'the password prompt was cancelled');
  return secret ?? '';
}
