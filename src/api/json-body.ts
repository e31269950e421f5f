import type { IncomingMessage } from 'node:http';
import type { z } from 'zod';
import { RegistryError } from '../errors/registry-error.js';
import { readLimited } from '../server/http.js';
import { parseInput } from './validation.js';

/** The largest JSON body the management API reads. */
export const maxBodyBytes = 1024 * 1024;

/** Reads a JSON request body (at most 1 MiB) and validates it; an empty body counts as `{}`. */
export async function readJsonBody<S extends z.ZodType>(
  req: IncomingMessage,
  schema: S,
): Promise<z.output<S>> {
  const type = req.headers['content-type']?.split(';')[0]?.trim().toLowerCase();
  if (type !== undefined && type !== 'application/json' && !type.endsWith('+json')) {
    throw new RegistryError(
      'INVALID_ARGUMENT',
      `expected a JSON body (Content-Type: application/json), not ${type}`,
      {
        status: 415,
      },
    );
  }
  const bytes = await readLimited(req, maxBodyBytes, 'the request body');
  let value: unknown = {};
  if (bytes.length > 0) {
    try {
      value = JSON.parse(bytes.toString('utf8'));
    } catch (error) {
      throw new RegistryError(
        'INVALID_ARGUMENT',
        `the request body is not valid JSON: ${(error as Error).message}`,
      );
    }
  }
  return parseInput(schema, value, 'body');
}
