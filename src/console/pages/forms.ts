import type { z } from 'zod';
import { parseInput } from '../../api/validation.js';

/**
 * HTML forms send text; the services take the management API's request bodies. These read a form
 * into such a body and check it with the API's own schema, so both refuse the same input the same way.
 */
export function formBody<S extends z.ZodType>(
  schema: S,
  form: URLSearchParams,
  fields: {
    readonly text?: readonly string[];
    readonly optional?: readonly string[];
    readonly checks?: readonly string[];
  },
): z.output<S> {
  const body: Record<string, unknown> = {};
  for (const name of fields.text ?? []) body[name] = form.get(name)?.trim() ?? '';
  for (const name of fields.optional ?? []) {
    const value = form.get(name)?.trim();
    if (value) body[name] = value;
  }
  for (const name of fields.checks ?? []) body[name] = form.get(name) === 'on';
  return parseInput(schema, body, 'body');
}

/** A value typed into a form that was refused, or the value the page shows by default. */
export function typed(form: URLSearchParams | undefined, name: string, fallback = ''): string {
  return form?.get(name) ?? fallback;
}

/** A checkbox as it was sent with a refused form, or its default. */
export function checked(form: URLSearchParams | undefined, name: string, fallback: boolean): boolean {
  return form ? form.get(name) === 'on' : fallback;
}
