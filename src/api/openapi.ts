import { z } from 'zod';
import type { ApiOperation } from './operation.js';
import { errorResponse, requestSchemas, responseSchemas } from './schemas.js';

type JsonSchema = Record<string, unknown>;

const ref = (id: string) => ({ $ref: `#/components/schemas/${id}` });

/** JSON Schema as an OpenAPI 3.1 component: no `$schema` or `$id` of its own. */
function clean(schema: JsonSchema): JsonSchema {
  const { $schema: _schema, $id: _id, ...rest } = schema;
  return rest;
}

function components(): Record<string, JsonSchema> {
  const uri = (id: string) => `#/components/schemas/${id}`;
  const requests = z.toJSONSchema(requestSchemas, { uri, io: 'input' }).schemas;
  const responses = z.toJSONSchema(responseSchemas, { uri, io: 'output' }).schemas;
  const all: Record<string, JsonSchema> = {};
  for (const [id, schema] of Object.entries({ ...requests, ...responses }))
    all[id] = clean(schema as JsonSchema);
  all.Error = clean(z.toJSONSchema(errorResponse) as JsonSchema);
  return all;
}

/** A schema registered as a component is referenced; anything else is written inline. */
function schemaOf(schema: z.ZodType, io: 'input' | 'output'): JsonSchema {
  const id = (io === 'input' ? requestSchemas : responseSchemas).get(schema)?.id;
  return id ? ref(id) : clean(z.toJSONSchema(schema, { io }) as JsonSchema);
}

function parameters(op: ApiOperation): JsonSchema[] {
  const described = (place: 'path' | 'query', object: z.ZodObject | undefined) =>
    Object.entries(object?.shape ?? {}).map(([name, field]) => {
      const schema = clean(z.toJSONSchema(field as z.ZodType, { io: 'input' }) as JsonSchema);
      const { description, ...rest } = schema;
      return {
        name,
        in: place,
        required: place === 'path' || !(field as z.ZodType).safeParse(undefined).success,
        ...(description ? { description } : {}),
        schema: rest,
      };
    });
  return [...described('path', op.params), ...described('query', op.query)];
}

const errorContent = { 'application/json': { schema: ref('Error') } };

function responses(op: ApiOperation): Record<string, unknown> {
  const result: Record<string, unknown> = {
    [op.status]: op.response
      ? {
          description: op.summary,
          content: { 'application/json': { schema: schemaOf(op.response, 'output') } },
        }
      : { description: `${op.summary}: done, no content` },
  };
  const error = (status: number, description: string) => {
    result[status] = { description, content: errorContent };
  };
  if (op.params || op.query || op.body)
    error(400, 'INVALID_ARGUMENT (or NAME_INVALID, TAG_INVALID): invalid input');
  if (op.public) return result;
  error(401, 'UNAUTHORIZED: credentials are missing or invalid, and the resource is not public');
  error(403, 'DENIED: the caller can see the resource but lacks the role this needs');
  error(404, 'NAME_UNKNOWN (projects, repositories) or NOT_FOUND: missing, or not visible to the caller');
  if (op.errors.includes('ALREADY_EXISTS')) error(409, 'ALREADY_EXISTS: the ID is taken');
  if (op.errors.includes('FAILED_PRECONDITION')) error(409, 'FAILED_PRECONDITION: not allowed in this state');
  if (op.body) error(413, 'SIZE_INVALID: the body is larger than 1 MiB');
  return result;
}

/** The OpenAPI 3.1 document, built from the same operations and schemas the server routes with. */
export function openApiDocument(operations: readonly ApiOperation[], version: string): JsonSchema {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const op of operations) {
    paths[op.path] ??= {};
    (paths[op.path] as Record<string, unknown>)[op.method.toLowerCase()] = {
      operationId: op.id,
      tags: [op.tag],
      summary: op.summary,
      ...(op.description ? { description: op.description } : {}),
      ...(op.public ? { security: [] } : {}),
      parameters: parameters(op),
      ...(op.body
        ? {
            requestBody: {
              required: true,
              content: { 'application/json': { schema: schemaOf(op.body, 'input') } },
            },
          }
        : {}),
      responses: responses(op),
    };
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'Mistrive management API',
      version,
      description:
        'Projects, repositories, images, tags, vulnerability reports, IAM policies, users and service accounts. ' +
        'Authenticate with ' +
        '`Authorization: Bearer ACCESS_TOKEN` (mistrive auth print-access-token) or Basic credentials: a password, ' +
        '`oauth2accesstoken` with an access token, or `_json_key_base64` with a service-account key. Without credentials, ' +
        'only public repositories can be read.',
    },
    tags: [...new Set(operations.map((op) => op.tag))].map((name) => ({ name })),
    security: [{ bearer: [] }, { basic: [] }, {}],
    paths,
    components: {
      schemas: components(),
      securitySchemes: {
        bearer: { type: 'http', scheme: 'bearer', description: 'An OAuth access token' },
        basic: {
          type: 'http',
          scheme: 'basic',
          description: 'Password, oauth2accesstoken or _json_key_base64',
        },
      },
    },
  };
}
