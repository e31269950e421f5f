import { randomInt } from 'node:crypto';

/**
 * RFC 8628 §6.1: twenty consonants, so that no code spells a word and none is mistaken for
 * another (no 0/O, 1/I, no vowels). Eight of them give about 34.5 bits.
 */
const alphabet = 'BCDFGHJKLMNPQRSTVWXZ';
const length = 8;

/** A new user code, normalized (`BCDFGHJK`). */
export function newUserCode(): string {
  let code = '';
  for (let i = 0; i < length; i++) code += alphabet[randomInt(alphabet.length)];
  return code;
}

/** How a user code is shown: `BCDF-GHJK`. */
export function formatUserCode(code: string): string {
  return `${code.slice(0, 4)}-${code.slice(4)}`;
}

/**
 * What a person typed, normalized: case and separators ignored. Undefined when it cannot be a
 * user code, so that nothing else is ever looked up.
 */
export function normalizeUserCode(input: string): string | undefined {
  const code = input.toUpperCase().replace(/[\s-]/g, '');
  if (code.length !== length) return undefined;
  for (const character of code) if (!alphabet.includes(character)) return undefined;
  return code;
}
