import type { Hook } from '@oclif/core';
import { suggestCommand } from '../command-suggestion.js';
import { confirm, processIo } from '../io.js';

/**
 * What oclif runs when the words typed name no command. In place of @oclif/plugin-not-found, which
 * matched the whole line (arguments included) against command IDs and re-split the arguments on
 * ":": the mistyped word alone is matched within its topic, the arguments are kept whole, commands
 * that read are preferred, and only those are offered to run at a terminal.
 */
const hook: Hook<'command_not_found'> = async function (options) {
  // oclif joined the words with ":" to look the command up; an argument such as REF:v1 holds one
  // too, so the words are taken as typed.
  const words = process.argv.slice(2);
  const bin = options.config.bin;
  const { typed, suggestion } = suggestCommand(
    words,
    options.config.commands.filter((command) => !command.hidden).map((command) => command.id),
    // oclif counts a command's own ID as a topic too: a topic here is one that is not a command.
    (id) => options.config.findTopic(id) !== undefined && !options.config.findCommand(id),
  );
  const shown = (id: string, argv: readonly string[]) =>
    [bin, ...id.split(':'), ...argv].map((word) => (/[\s'"]/.test(word) ? `'${word}'` : word)).join(' ');
  // A command followed by words it does not take: name them rather than call it unknown.
  const known = options.config.findCommand(typed.join(':')) !== undefined;
  if (known) {
    const extra = words.slice(typed.length).filter((word) => !word.startsWith('-'));
    process.stderr.write(
      `\`${[bin, ...typed].join(' ')}\` does not take ${extra.map((word) => `"${word}"`).join(' ')}.\n`,
    );
  } else process.stderr.write(`\`${[bin, ...typed].join(' ')}\` is not a ${bin} command.\n`);
  if (suggestion) {
    const line = shown(suggestion.id, suggestion.argv);
    const io = processIo(process.env);
    if (suggestion.read && io.stderrTty && io.stdin.isTTY === true) {
      if (await confirm(io, `Did you mean \`${line}\`? Run it?`)) {
        return options.config.runCommand(suggestion.id, suggestion.argv);
      }
    } else {
      process.stderr.write(`Did you mean \`${line}\`?\n`);
    }
  }
  if (known) {
    this.error(`Run \`${[bin, ...typed].join(' ')} --help\` for the arguments it takes.`, { exit: 127 });
  }
  const topic = suggestion?.id.split(':').slice(0, -1).join(' ');
  this.error(`Run \`${bin} help${topic ? ` ${topic}` : ''}\` for a list of available commands.`, {
    exit: 127,
  });
};

export default hook;
