import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ApiClient, adminClient, createProject, expectApiError } from '../support/api-client.js';
import { startTestRegistry, type TestRegistry } from '../support/registry.js';

let registry: TestRegistry;
let admin: ApiClient;

beforeAll(async () => {
  registry = await startTestRegistry({ autoCreateRepositories: false });
  admin = await adminClient(registry.url);
  await createProject(admin, 'bodies');
});
afterAll(() => registry.close());

describe('request bodies', () => {
  it('refuses a body over 1 MiB with 413', async () => {
    const description = 'x'.repeat(1024 * 1024);
    const response = await admin.patch('/api/v1/projects/bodies', { description });
    expectApiError(response, 413, 'SIZE_INVALID', /limit is 1048576/);
  });

  it('reads a body just under the limit (and then validates it)', async () => {
    const description = 'x'.repeat(1024 * 1024 - 100);
    const response = await admin.patch('/api/v1/projects/bodies', { description });
    expectApiError(response, 400, 'INVALID_ARGUMENT', /field "description": must be at most 2048 characters/);
  });

  it('refuses malformed JSON', async () => {
    const response = await admin.request('PATCH', '/api/v1/projects/bodies', '{"displayName": ', {
      'Content-Type': 'application/json',
    });
    expectApiError(response, 400, 'INVALID_ARGUMENT', /not valid JSON/);
  });

  it('refuses a body that is not JSON', async () => {
    const response = await admin.request('PATCH', '/api/v1/projects/bodies', 'displayName=x', {
      'Content-Type': 'application/x-www-form-urlencoded',
    });
    expectApiError(response, 415, 'INVALID_ARGUMENT', /Content-Type: application\/json/);
  });

  it('takes an empty body as an empty object', async () => {
    const response = await admin.request('PATCH', '/api/v1/projects/bodies', '', {
      'Content-Type': 'application/json',
    });
    expect(response.status, response.text).toBe(200);
    expect(response.body.id).toBe('bodies');
  });

  it('lists every problem of a body in the error detail', async () => {
    const response = await admin.post('/api/v1/projects', {
      projectId: 'UPPER',
      displayName: 5,
      extra: true,
    });
    expectApiError(response, 400, 'INVALID_ARGUMENT', /field "projectId".*\(and 2 more problems\)/);
    const fields = response.body.errors[0].detail.fieldViolations.map((v: { field: string }) => v.field);
    expect(fields.sort()).toEqual(['displayName', 'extra', 'projectId']);
  });

  it('refuses an invalid path parameter before anything else', async () => {
    expectApiError(
      await admin.get('/api/v1/projects/Not_An_Id'),
      400,
      'INVALID_ARGUMENT',
      /path parameter "project"/,
    );
  });
});

describe('routing', () => {
  it('answers 404 for a path that is no endpoint', async () => {
    expectApiError(await admin.get('/api/v1/nothing-here'), 404, 'UNSUPPORTED', /no endpoint/);
  });

  it('answers 405 with Allow for a method an endpoint does not have', async () => {
    const response = await admin.request('PUT', '/api/v1/projects', {});
    expect(response.status).toBe(405);
    expect(response.headers.get('allow')).toBe('GET, POST');
  });

  it('answers JSON with no caching', async () => {
    const response = await admin.get('/api/v1/projects/bodies');
    expect(response.headers.get('content-type')).toBe('application/json');
    expect(response.headers.get('cache-control')).toBe('no-store');
  });

  it('answers deletions with 204 and no body', async () => {
    await createProject(admin, 'to-delete');
    const response = await admin.delete('/api/v1/projects/to-delete');
    expect(response.status).toBe(204);
    expect(response.text).toBe('');
  });
});
