import { z } from 'zod';
import { resourceIdPattern } from '../oci/names.js';

/**
 * Schemas shared by the management API's resources. Request bodies and responses are registered
 * under a name, so the OpenAPI document describes them once, as components.
 */
export const requestSchemas = z.registry<{ id: string; description?: string }>();
export const responseSchemas = z.registry<{ id: string; description?: string }>();

export function requestSchema<S extends z.ZodType>(id: string, schema: S, description?: string): S {
  requestSchemas.add(schema as z.ZodType, { id, ...(description ? { description } : {}) });
  return schema;
}

export function responseSchema<S extends z.ZodType>(id: string, schema: S, description?: string): S {
  responseSchemas.add(schema as z.ZodType, { id, ...(description ? { description } : {}) });
  return schema;
}

export { resourceIdPattern };

export const resourceId = z
  .string()
  .regex(
    resourceIdPattern,
    'must be 1 to 63 lowercase letters, digits and hyphens, starting with a letter and not ending with a hyphen',
  );

export const timestamp = z.string().meta({ format: 'date-time', description: 'RFC 3339, UTC' });

export const displayName = z.string().max(100, 'must be at most 100 characters');
export const description = z.string().max(2048, 'must be at most 2048 characters');

export const errorResponse = z.object({
  errors: z.array(
    z.object({
      code: z.string().describe('A stable code, e.g. INVALID_ARGUMENT, UNAUTHORIZED, DENIED, NAME_UNKNOWN'),
      message: z.string().describe('What went wrong, in one sentence'),
      detail: z.unknown().optional(),
    }),
  ),
});

/** The platform of an image, as an index names it. */
export const platformView = z.object({
  os: z.string(),
  architecture: z.string(),
  variant: z.string().optional(),
  osVersion: z.string().optional(),
});

/** Storage a repository or project holds, computed when asked. */
export const usageView = z
  .object({
    logicalBytes: z
      .number()
      .int()
      .describe('The sizes of the distinct blobs and manifests it holds, added up'),
    uniqueBytes: z
      .number()
      .int()
      .describe('The part of that nothing outside it holds: what deleting it would free'),
  })
  .describe('Storage usage');

/** A resource's path parameter, percent-decoded. */
export const pathParams = {
  organization: resourceId.describe('Organization ID'),
  project: resourceId.describe('Project ID'),
  repository: resourceId.describe('Repository ID'),
};

export function iso(date: Date): string {
  return date.toISOString();
}
