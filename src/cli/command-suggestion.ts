import { editDistance } from '../lib/edit-distance.js';

/**
 * What to suggest for a command line that names no command (`mistrive images lst REF:v1`): the
 * closest command of the same topic, with the rest of the line kept word for word. Commands that only
 * read are preferred over ones that change something, and only they are offered to run.
 */

/** Commands whose last word is one of these change nothing. */
const readVerbs = new Set(['list', 'describe', 'get', 'get-iam-policy', 'vulns', 'print-access-token']);

export function isReadCommand(id: string): boolean {
  return readVerbs.has(id.split(':').at(-1) ?? '');
}

export interface Suggestion {
  /** The command ID, `images:list`. */
  readonly id: string;
  /** The arguments after the mistyped word, as they were typed. */
  readonly argv: string[];
  /** Whether the suggested command only reads, and so may be offered to run. */
  readonly read: boolean;
}

/**
 * Splits the words typed into the topic they name (`images`), the mistyped command (`lst`) and the
 * rest, and finds the closest command: within half the mistyped word's length in edits, fewest edits
 * first, commands that read before those that write.
 */
export function suggestCommand(
  words: readonly string[],
  commandIds: readonly string[],
  isTopic: (id: string) => boolean,
): { readonly typed: string[]; readonly suggestion: Suggestion | undefined } {
  const leading = words.findIndex((word) => word.startsWith('-'));
  const typed = leading < 0 ? [...words] : words.slice(0, leading);
  let topicLength = 0;
  while (topicLength < typed.length && isTopic(typed.slice(0, topicLength + 1).join(':'))) topicLength++;
  const mistyped = typed[topicLength];
  if (mistyped === undefined) return { typed, suggestion: undefined };
  const topic = typed.slice(0, topicLength);
  const candidates = commandIds.filter((id) => {
    const parts = id.split(':');
    return parts.length === topic.length + 1 && topic.every((word, index) => parts[index] === word);
  });
  const limit = Math.max(1, Math.floor(mistyped.length / 2));
  const ranked = candidates
    .map((id) => ({
      id,
      distance: editDistance(mistyped, id.split(':').at(-1) ?? ''),
      read: isReadCommand(id),
    }))
    // The word itself naming a command means extra arguments, not a typo: nothing to suggest.
    .filter((candidate) => candidate.distance > 0 && candidate.distance <= limit)
    .sort((a, b) => a.distance - b.distance || Number(b.read) - Number(a.read) || a.id.localeCompare(b.id));
  const best = ranked[0];
  const command = [...topic, mistyped];
  if (!best) return { typed: command, suggestion: undefined };
  return { typed: command, suggestion: { id: best.id, argv: words.slice(topicLength + 1), read: best.read } };
}
