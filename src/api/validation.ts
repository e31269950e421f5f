import type { z } from 'zod';
import { RegistryError } from '../errors/registry-error.js';

/** Where a value came from, as the error message names it. */
export type InputPlace = 'path' | 'query' | 'body';

const places: Record<InputPlace, { field: string; whole: string }> = {
  path: { field: 'path parameter', whole: 'path' },
  query: { field: 'query parameter', whole: 'query' },
  body: { field: 'field', whole: 'request body' },
};

export interface FieldViolation {
  readonly field: string;
  readonly description: string;
}

/**
 * Validates request input with its schema. A failure is INVALID_ARGUMENT whose message names the
 * first field at fault and says what is wrong; `detail.fieldViolations` lists every problem.
 */
export function parseInput<S extends z.ZodType>(schema: S, value: unknown, place: InputPlace): z.output<S> {
  const result = schema.safeParse(value, {
    error: (issue) =>
      issue.input === undefined && issue.code === 'invalid_type' ? 'is required' : undefined,
  });
  if (result.success) return result.data;
  const violations = result.error.issues.flatMap((issue): FieldViolation[] => {
    if (issue.code === 'unrecognized_keys') {
      return issue.keys.map((key) => ({
        field: [...issue.path, key].join('.'),
        description: 'is not a known field',
      }));
    }
    return [{ field: issue.path.join('.'), description: lowerFirst(issue.message) }];
  });
  const [first] = violations;
  const where = first?.field ? `${places[place].field} "${first.field}"` : places[place].whole;
  const more =
    violations.length > 1
      ? ` (and ${violations.length - 1} more problem${violations.length > 2 ? 's' : ''})`
      : '';
  throw new RegistryError('INVALID_ARGUMENT', `invalid ${where}: ${first?.description ?? 'invalid'}${more}`, {
    detail: { fieldViolations: violations },
  });
}

function lowerFirst(text: string): string {
  return text.charAt(0).toLowerCase() + text.slice(1);
}
