import { Errors, type Hook } from '@oclif/core';
import suggestCommand from '@oclif/plugin-not-found';

/**
 * What runs when the command line names no command. With spaces between topics and commands, oclif
 * reads every word after a command that takes no arguments as more of the command's name
 * (`auth login 127.0.0.1:5000` looks for a command `auth:login:127.0.0.1:5000`), and its `:`
 * splitting mangles the words. So: when the words start with a real command, that command runs with
 * the rest, whole, and its parser reports the extra arguments as the usage error they are (exit 2).
 * Otherwise the name is unknown: the suggestion plugin answers, and the exit status is 2 (usage)
 * like every other wrong command line, instead of its 127.
 */
const commandNotFound: Hook.CommandNotFound = async function (options) {
  const known = commandPrefix(options.config, options.id, process.argv.slice(2));
  if (known) return options.config.runCommand(known.id, known.rest);
  try {
    return await suggestCommand.call(this, options);
  } catch (error) {
    const exit = (error as Errors.CLIError).oclif?.exit;
    if (exit !== 127) throw error;
    throw new Errors.CLIError((error as Error).message, { exit: 2 });
  }
};

export default commandNotFound;

/**
 * The longest run of leading command-line words that names a command, and the words after it, as
 * typed. Undefined when no command starts the line, or when the line is not the one oclif was given.
 */
export function commandPrefix(
  config: { findCommand(id: string): unknown },
  id: string,
  argv: readonly string[],
): { id: string; rest: string[] } | undefined {
  const words: string[] = [];
  for (const word of argv) {
    if (word.startsWith('-')) break;
    words.push(word);
  }
  for (let count = words.length - 1; count > 0; count--) {
    const candidate = words.slice(0, count).join(':');
    if (config.findCommand(candidate) && id.startsWith(`${candidate}:`)) {
      return { id: candidate, rest: argv.slice(count) };
    }
  }
  return undefined;
}
