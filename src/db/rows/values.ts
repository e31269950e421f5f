/**
 * Column values as either driver hands them over: SQLite gives flags as 0/1 and JSON as text,
 * PostgreSQL booleans and parsed jsonb. The row mappers the two stores share read both.
 */

export type Flag = number | boolean;

export const isSet = (value: Flag): boolean => value === true || value === 1;

/** A JSON column's value: parsed from text (SQLite), or already parsed (PostgreSQL jsonb). */
export function fromJson<T>(value: string | T): T {
  return typeof value === 'string' ? (JSON.parse(value) as T) : value;
}

export const optionalDate = (ms: number | null): Date | undefined => (ms === null ? undefined : new Date(ms));
