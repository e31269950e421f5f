import type { Hook } from '@oclif/core';
import { suggestCommand } from '../command-suggestion.js';
import { canPrompt, confirm, processIo } from '../io.js';

/**
 * What oclif runs when the words typed name no command; in place of @oclif/plugin-not-found.
 *
 * With spaces between topics and commands, oclif reads every word after a command that takes no
 * arguments as more of the command's name (`auth login 127.0.0.1:5000` looks for a command
 * `auth:login:127.0.0.1:5000`), and its `:` splitting mangles the words. So when the words start
 * with a real command, that command runs with the rest, whole, and its parser reports the extra
 * arguments as the usage error they are (exit 2).
 *
 * Otherwise the name is unknown: the mistyped word alone is matched within its topic, the arguments
 * are kept whole, commands that read are preferred, and only those are offered to run at a
 * terminal. The exit status is 2 (usage) like every other wrong command line.
 */
const hook: Hook<'command_not_found'> = async function (options) {
  // oclif joined the words with ":" to look the command up; an argument such as REF:v1 holds one
  // too, so the words are taken as typed.
  const words = process.argv.slice(2);
  const known = commandPrefix(options.config, options.id, words);
  if (known) return options.config.runCommand(known.id, known.rest);
  const bin = options.config.bin;
  const { typed, suggestion } = suggestCommand(
    words,
    options.config.commands.filter((command) => !command.hidden).map((command) => command.id),
    // oclif counts a command's own ID as a topic too: a topic here is one that is not a command.
    (id) => options.config.findTopic(id) !== undefined && !options.config.findCommand(id),
  );
  const shown = (id: string, argv: readonly string[]) =>
    [bin, ...id.split(':'), ...argv].map((word) => (/[\s'"]/.test(word) ? `'${word}'` : word)).join(' ');
  process.stderr.write(`\`${[bin, ...typed].join(' ')}\` is not a ${bin} command.\n`);
  if (suggestion) {
    const line = shown(suggestion.id, suggestion.argv);
    const io = processIo(process.env);
    if (suggestion.read && canPrompt(io)) {
      if (await confirm(io, `Did you mean \`${line}\`? Run it?`)) {
        return options.config.runCommand(suggestion.id, suggestion.argv);
      }
    } else {
      process.stderr.write(`Did you mean \`${line}\`?\n`);
    }
  }
  const topic = suggestion?.id.split(':').slice(0, -1).join(' ');
  this.error(`Run \`${bin} help${topic ? ` ${topic}` : ''}\` for a list of available commands.`, {
    exit: 2,
  });
};

export default hook;

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
