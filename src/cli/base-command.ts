import { Command, Errors, Flags } from '@oclif/core';
import { type CliContext, createContext } from './context.js';
import { looksLikeRegistry } from './credentials/registry-url.js';
import { CliError, exitCodes } from './errors.js';
import { canPrompt, confirm } from './io.js';
import { withHttpsGuessExplained } from './registry-scheme.js';

/**
 * What every mistrive command shares: `--json` (the typed result a command returns is printed as
 * JSON), the context, rendering for people through `print`, and one way of reporting errors: one
 * sentence and a hint on stderr (`{"error":{code,message,hint}}` with --json), with the exit code of
 * the table in `src/cli/errors.ts`.
 */
export abstract class MistriveCommand extends Command {
  static override enableJsonFlag = true;

  private contextInstance: CliContext | undefined;

  /**
   * Arguments come from the command line only. oclif would otherwise read a missing argument from
   * piped stdin, so that `mistrive auth print-access-token` inside a `while read` loop swallows the
   * loop's input as an account name, and `echo x | mistrive auth logout` signs out account "x".
   */
  override async init(): Promise<void> {
    for (const arg of Object.values(this.ctor.args ?? {}))
      (arg as { ignoreStdin?: boolean }).ignoreStdin = true;
    await super.init();
  }

  protected get context(): CliContext {
    this.contextInstance ??= createContext(process.env);
    return this.contextInstance;
  }

  /** Writes human output to stdout, only when --json is off. */
  protected print(text: string): void {
    if (!this.jsonEnabled() && text) this.context.io.stdout.write(text);
  }

  /** The --json output: plain JSON, whatever the terminal, so that NO_COLOR and pipes get the same bytes. */
  override logJson(json: unknown): void {
    process.stdout.write(`${JSON.stringify(json, null, 2)}\n`);
  }

  /** Whether spinners and other terminal niceties may show. */
  protected get interactive(): boolean {
    return !this.jsonEnabled() && this.context.io.stderrTty;
  }

  /**
   * Asks before deleting when a person is at the terminal, unless --yes; scripts (no terminal) are
   * not asked.
   */
  protected async confirmDeletion(what: string, yes: boolean): Promise<void> {
    const { io } = this.context;
    if (yes || this.jsonEnabled() || !canPrompt(io)) return;
    if (!(await confirm(io, `Delete ${what}?`))) throw new CliError('CANCELLED', 'nothing was deleted');
  }

  /** The https origin guessed from a bare host that a message names, if any. */
  private guessedOriginIn(message: string): string | undefined {
    const guessed = this.contextInstance?.guessedHttps ?? new Set<string>();
    return [...guessed].find((origin) => message.includes(origin));
  }

  override async catch(error: Error & { exitCode?: number; oclif?: { exit?: number } }): Promise<void> {
    let failure = withRegistryHint(toCliError(error), error, 'registry' in (this.ctor.flags ?? {}));
    const guessed = failure.code === 'UNREACHABLE' ? this.guessedOriginIn(failure.message) : undefined;
    if (guessed) failure = await withHttpsGuessExplained(failure, guessed);
    process.exitCode = failure.exitCode;
    const stderr = process.stderr;
    if (this.jsonEnabled()) {
      stderr.write(`${JSON.stringify({ error: failure.toJSON() }, null, 2)}\n`);
      return;
    }
    // Answering no is the person's choice, not a failure: say what happened, without "Error:".
    if (failure.code === 'CANCELLED') {
      stderr.write(`${failure.message.charAt(0).toUpperCase()}${failure.message.slice(1)}.\n`);
      return;
    }
    stderr.write(`Error: ${failure.message}\n`);
    if (failure.hint) stderr.write(`Hint: ${failure.hint}\n`);
    if (failure.code === 'INTERNAL' && process.env.DEBUG && error.stack) stderr.write(`${error.stack}\n`);
  }
}

/** Any failure as a CliError: ours as they are, oclif's flag and argument errors as USAGE. */
export function toCliError(error: Error & { oclif?: { exit?: number } }): CliError {
  if (error instanceof CliError) return error;
  if (error instanceof Errors.ExitError) return new CliError('INTERNAL', error.message);
  if (error instanceof Errors.CLIError) {
    const message = missingArguments(error) ?? parseMessage(error.message);
    const code =
      error.oclif?.exit === 2 || /flag|argument|arg\b|expected/i.test(message) ? 'USAGE' : 'INTERNAL';
    return new CliError(code, message, {
      hint: 'see `--help` for the flags and arguments this command takes',
    });
  }
  return new CliError('INTERNAL', `unexpected error: ${error.message}`, {
    hint: 'set DEBUG=1 to see where it happened, and report it',
  });
}

/**
 * oclif's "Missing 1 required arg:\nrepository  repository: ID …" as one sentence in the CLI's words:
 * `missing argument REPOSITORY: ID …`, each argument named once.
 */
function missingArguments(error: Error): string | undefined {
  const args = (error as { args?: unknown }).args;
  if (!/^Missing \d+ required arg/.test(error.message) || !Array.isArray(args)) return undefined;
  const named = (args as { name?: string; description?: string }[]).flatMap((arg) => {
    if (!arg.name) return [];
    const description = (arg.description ?? '').replace(new RegExp(`^${arg.name}:\\s*`, 'i'), '');
    return [`${arg.name.toUpperCase()}${description ? `: ${description}` : ''}`];
  });
  if (named.length === 0) return undefined;
  return `missing argument${named.length === 1 ? '' : 's'} ${named.join('; ')}`;
}

/** oclif's other parse errors span lines ("…\nSee more help with --help"): one sentence, in lower case. */
function parseMessage(text: string): string {
  const sentence = text
    .split('\n')
    .map((line) => line.trim().replace(/\s{2,}/g, ': '))
    .filter((line) => line && !/^See more help with/.test(line) && line !== 'The following error occurred:')
    .join(' ')
    .replace(/^Nonexistent flags?: /, (match) =>
      match.includes('flags') ? 'unknown flags: ' : 'unknown flag: ',
    )
    .replace(/^Flag (--\S+) expects a value$/, 'flag $1 needs a value');
  return sentence.charAt(0).toLowerCase() + sentence.slice(1);
}

/**
 * An unexpected argument that is a registry address (`auth login localhost:5000`), on a command that
 * takes --registry: the hint says how to name the registry.
 */
function withRegistryHint(failure: CliError, error: Error, takesRegistry: boolean): CliError {
  const extra = (error as { args?: unknown }).args;
  if (!takesRegistry || failure.code !== 'USAGE' || !Array.isArray(extra)) return failure;
  const address = extra.find((arg): arg is string => typeof arg === 'string' && looksLikeRegistry(arg));
  if (!address) return failure;
  return new CliError(failure.code, failure.message, {
    hint: `this command takes no registry argument: name the registry with --registry ${address}`,
  });
}

/** Flags several commands share. */
export const commonFlags = {
  registry: Flags.string({
    description: 'registry URL or HOST:PORT [default: the configured registry]',
    helpGroup: 'GLOBAL',
  }),
  yes: Flags.boolean({ char: 'y', description: 'do not ask for confirmation' }),
  project: Flags.string({
    char: 'p',
    description: 'project ID [default: the configured project]',
  }),
};

export { exitCodes };
