import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import {
  type ApiClient,
  adminClient,
  createProject,
  createRepository,
  type Json,
  noCredentials,
  pushImageAs,
} from '../support/api-client.js';
import { startTestRegistry, type TestRegistry } from '../support/registry.js';

let registry: TestRegistry;
let admin: ApiClient;
let document: Json;

/** The contract: every endpoint of the management API. A change here is a change scripts will notice. */
const endpoints = [
  'GET /api/v1/openapi.json',
  'GET /api/v1/organizations/{organization}',
  'GET /api/v1/organizations/{organization}/iamPolicy',
  'POST /api/v1/organizations/{organization}/iamPolicy/bindings',
  'DELETE /api/v1/organizations/{organization}/iamPolicy/bindings',
  'GET /api/v1/projects',
  'POST /api/v1/projects',
  'GET /api/v1/projects/{project}',
  'PATCH /api/v1/projects/{project}',
  'DELETE /api/v1/projects/{project}',
  'GET /api/v1/projects/{project}/iamPolicy',
  'POST /api/v1/projects/{project}/iamPolicy/bindings',
  'DELETE /api/v1/projects/{project}/iamPolicy/bindings',
  'GET /api/v1/projects/{project}/repositories',
  'POST /api/v1/projects/{project}/repositories',
  'GET /api/v1/projects/{project}/repositories/{repository}',
  'PATCH /api/v1/projects/{project}/repositories/{repository}',
  'DELETE /api/v1/projects/{project}/repositories/{repository}',
  'GET /api/v1/projects/{project}/repositories/{repository}/iamPolicy',
  'POST /api/v1/projects/{project}/repositories/{repository}/iamPolicy/bindings',
  'DELETE /api/v1/projects/{project}/repositories/{repository}/iamPolicy/bindings',
  'GET /api/v1/projects/{project}/rate-limits',
  'PATCH /api/v1/projects/{project}/rate-limits',
  'GET /api/v1/projects/{project}/security-policy',
  'PATCH /api/v1/projects/{project}/security-policy',
  'GET /api/v1/projects/{project}/repositories/{repository}/security-policy',
  'PATCH /api/v1/projects/{project}/repositories/{repository}/security-policy',
  'POST /api/v1/projects/{project}/repositories/{repository}/cleanup',
  'GET /api/v1/projects/{project}/repositories/{repository}/cleanup',
  'GET /api/v1/projects/{project}/repositories/{repository}/images',
  'GET /api/v1/projects/{project}/repositories/{repository}/images/{image}',
  'DELETE /api/v1/projects/{project}/repositories/{repository}/images/{image}',
  'GET /api/v1/projects/{project}/repositories/{repository}/images/{image}/digests',
  'GET /api/v1/projects/{project}/repositories/{repository}/images/{image}/digests/{digest}',
  'DELETE /api/v1/projects/{project}/repositories/{repository}/images/{image}/digests/{digest}',
  'GET /api/v1/projects/{project}/repositories/{repository}/images/{image}/digests/{digest}/vulnerabilities',
  'POST /api/v1/projects/{project}/repositories/{repository}/images/{image}/digests/{digest}/scan',
  'GET /api/v1/projects/{project}/repositories/{repository}/images/{image}/tags',
  'PUT /api/v1/projects/{project}/repositories/{repository}/images/{image}/tags/{tag}',
  'DELETE /api/v1/projects/{project}/repositories/{repository}/images/{image}/tags/{tag}',
  'POST /api/v1/projects/{project}/repositories/{repository}/images/{image}/copy',
  'GET /api/v1/projects/{project}/serviceAccounts',
  'POST /api/v1/projects/{project}/serviceAccounts',
  'GET /api/v1/projects/{project}/serviceAccounts/{account}',
  'DELETE /api/v1/projects/{project}/serviceAccounts/{account}',
  'GET /api/v1/projects/{project}/serviceAccounts/{account}/keys',
  'POST /api/v1/projects/{project}/serviceAccounts/{account}/keys',
  'PATCH /api/v1/projects/{project}/serviceAccounts/{account}/keys/{key}',
  'DELETE /api/v1/projects/{project}/serviceAccounts/{account}/keys/{key}',
  'GET /api/v1/users',
  'POST /api/v1/admin/gc',
  'GET /api/v1/admin/gc/{run}',
  'POST /api/v1/admin/verify',
  'GET /api/v1/admin/verify/{run}',
  'POST /api/v1/users',
  'GET /api/v1/users/{login}',
  'PATCH /api/v1/users/{login}',
  'DELETE /api/v1/users/{login}',
  'PUT /api/v1/users/{login}/password',
  'PUT /api/v1/account/password',
  'GET /api/v1/usage',
  'GET /api/v1/audit/entries',
  'GET /api/v1/projects/{project}/webhooks',
  'POST /api/v1/projects/{project}/webhooks',
  'GET /api/v1/projects/{project}/webhooks/{webhook}',
  'DELETE /api/v1/projects/{project}/webhooks/{webhook}',
  'GET /api/v1/projects/{project}/webhooks/{webhook}/deliveries',
  'GET /api/v1/projects/{project}/webhookDeliveries/{delivery}',
  'POST /api/v1/projects/{project}/webhookDeliveries/{delivery}/redeliver',
];

function documented(): { method: string; path: string; operation: Json }[] {
  return Object.entries(document.paths as Record<string, Record<string, unknown>>).flatMap(
    ([path, methods]) =>
      Object.entries(methods).map(([method, operation]) => ({
        method: method.toUpperCase(),
        path,
        operation,
      })),
  );
}

/** A zod schema from a component of the served document, with every reference resolved inside it. */
function componentSchema(id: string): z.ZodType {
  const components = JSON.parse(
    JSON.stringify(document.components.schemas).replaceAll('#/components/schemas/', '#/$defs/'),
  ) as Record<string, object>;
  return z.fromJSONSchema({ ...components[id], $defs: components } as Parameters<typeof z.fromJSONSchema>[0]);
}

function responseComponent(method: string, path: string, status = '200'): string {
  const ref: string =
    document.paths[path][method.toLowerCase()].responses[status].content['application/json'].schema.$ref;
  return ref.replace('#/components/schemas/', '');
}

beforeAll(async () => {
  registry = await startTestRegistry({ autoCreateRepositories: false });
  admin = await adminClient(registry.url);
  const response = await admin.as(noCredentials).get('/api/v1/openapi.json');
  expect(response.status).toBe(200);
  document = response.body;
});
afterAll(() => registry.close());

describe('the OpenAPI document', () => {
  it('is OpenAPI 3.1, served without credentials', () => {
    expect(document.openapi).toBe('3.1.0');
    expect(document.info.title).toBe('Mistrive management API');
    expect(document.components.securitySchemes).toMatchObject({
      bearer: { type: 'http', scheme: 'bearer' },
      basic: { type: 'http', scheme: 'basic' },
    });
  });

  it('lists every endpoint, and nothing else', () => {
    const listed = documented().map(({ method, path }) => `${method} ${path}`);
    expect([...listed].sort()).toEqual([...endpoints].sort());
  });

  it('gives every operation a unique ID, a tag, a summary, and the errors it can answer with', () => {
    const ids = documented().map(({ operation }) => operation.operationId);
    expect(new Set(ids).size).toBe(ids.length);
    for (const { method, path, operation } of documented()) {
      expect(operation.summary, `${method} ${path}`).toEqual(expect.any(String));
      expect(operation.tags).toHaveLength(1);
      if (path === '/api/v1/openapi.json') continue;
      for (const status of ['401', '403', '404']) {
        expect(operation.responses[status]?.content['application/json'].schema.$ref).toBe(
          '#/components/schemas/Error',
        );
      }
      const names = [...path.matchAll(/\{(\w+)\}/g)].map((match) => match[1]);
      const pathParameters = operation.parameters.filter((p: { in: string }) => p.in === 'path');
      expect(pathParameters.map((p: { name: string }) => p.name)).toEqual(names);
    }
  });

  it('documents request bodies and validation rules from the schemas the server validates with', () => {
    const create = document.paths['/api/v1/projects'].post;
    expect(create.requestBody.content['application/json'].schema.$ref).toBe(
      '#/components/schemas/NewProject',
    );
    const newProject = document.components.schemas.NewProject;
    expect(newProject.required).toEqual(['projectId']);
    expect(newProject.properties.projectId.pattern).toBe('^[a-z](?:[a-z0-9-]{0,61}[a-z0-9])?$');
    expect(newProject.additionalProperties).toBe(false);
    const list = document.paths['/api/v1/projects'].get.parameters;
    expect(list).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ name: 'pageSize', in: 'query', required: false }),
        expect.objectContaining({ name: 'pageToken', in: 'query', required: false }),
      ]),
    );
  });

  it('resolves every reference', () => {
    const refs = [...JSON.stringify(document).matchAll(/"\$ref":"#\/components\/schemas\/([^"]+)"/g)].map(
      (m) => m[1],
    );
    expect(refs.length).toBeGreaterThan(20);
    for (const ref of refs) expect(document.components.schemas[ref as string], ref).toBeDefined();
  });

  it('routes every documented operation (none falls through to "no endpoint")', async () => {
    const samples: Record<string, string> = {
      organization: 'nowhere',
      project: 'routing-check',
      repository: 'nothing',
      image: 'app%2Fweb',
      digest: `sha256:${'0'.repeat(64)}`,
      tag: 'v1',
      login: 'nobody@example.com',
      account: 'nobody',
      key: 'nokey',
    };
    for (const { method, path } of documented()) {
      const url = path.replace(/\{(\w+)\}/g, (_, name: string) => samples[name] ?? name);
      const body = ['POST', 'PUT', 'PATCH'].includes(method) ? {} : undefined;
      const response = await admin.request(method, url, body);
      expect(response.body?.errors?.[0]?.code, `${method} ${url}: ${response.text}`).not.toBe('UNSUPPORTED');
      expect(response.status, `${method} ${url}`).not.toBe(405);
    }
  });

  it('describes what the server really answers', async () => {
    await createProject(admin, 'shapes', { displayName: 'Shapes' });
    await createRepository(admin, 'shapes', 'repo');
    const pushed = await pushImageAs(registry.url, 'shapes/repo/app', 'v1', admin.credentials);
    await admin.ok('POST', '/api/v1/users', { login: 'shape@example.com', password: 'shape-password' });
    await admin.ok('POST', '/api/v1/projects/shapes/serviceAccounts', { accountId: 'bot' });
    const created = await admin.ok('POST', '/api/v1/projects/shapes/serviceAccounts/bot/keys');
    const webhook = await admin.ok('POST', '/api/v1/projects/shapes/webhooks', {
      url: 'http://203.0.113.9/hook',
      events: ['delete'],
    });
    const repo = '/api/v1/projects/{project}/repositories/{repository}';
    const checks: [string, string, string, string?][] = [
      ['/api/v1/organizations/default', 'GET', '/api/v1/organizations/{organization}'],
      ['/api/v1/projects', 'GET', '/api/v1/projects'],
      ['/api/v1/projects/shapes', 'GET', '/api/v1/projects/{project}'],
      ['/api/v1/projects/shapes/repositories', 'GET', '/api/v1/projects/{project}/repositories'],
      ['/api/v1/projects/shapes/repositories/repo', 'GET', repo],
      ['/api/v1/projects/shapes/repositories/repo/images', 'GET', `${repo}/images`],
      [
        '/api/v1/projects/shapes/repositories/repo/images/app/digests',
        'GET',
        `${repo}/images/{image}/digests`,
      ],
      [
        `/api/v1/projects/shapes/repositories/repo/images/app/digests/${pushed.digest}`,
        'GET',
        `${repo}/images/{image}/digests/{digest}`,
      ],
      [
        `/api/v1/projects/shapes/repositories/repo/images/app/digests/${pushed.digest}/vulnerabilities`,
        'GET',
        `${repo}/images/{image}/digests/{digest}/vulnerabilities`,
      ],
      ['/api/v1/projects/shapes/repositories/repo/images/app/tags', 'GET', `${repo}/images/{image}/tags`],
      ['/api/v1/projects/shapes/repositories/repo/iamPolicy', 'GET', `${repo}/iamPolicy`],
      ['/api/v1/projects/shapes/rate-limits', 'GET', '/api/v1/projects/{project}/rate-limits'],
      ['/api/v1/projects/shapes/security-policy', 'GET', '/api/v1/projects/{project}/security-policy'],
      ['/api/v1/projects/shapes/repositories/repo/security-policy', 'GET', `${repo}/security-policy`],
      ['/api/v1/users', 'GET', '/api/v1/users'],
      ['/api/v1/projects/shapes/serviceAccounts', 'GET', '/api/v1/projects/{project}/serviceAccounts'],
      [
        '/api/v1/projects/shapes/serviceAccounts/bot/keys',
        'GET',
        '/api/v1/projects/{project}/serviceAccounts/{account}/keys',
      ],
      ['/api/v1/projects/shapes/webhooks', 'GET', '/api/v1/projects/{project}/webhooks'],
      [
        `/api/v1/projects/shapes/webhooks/${webhook.webhook.id}`,
        'GET',
        '/api/v1/projects/{project}/webhooks/{webhook}',
      ],
      [
        `/api/v1/projects/shapes/webhooks/${webhook.webhook.id}/deliveries`,
        'GET',
        '/api/v1/projects/{project}/webhooks/{webhook}/deliveries',
      ],
    ];
    for (const [url, method, path] of checks) {
      const body = await admin.ok(method, url);
      const result = componentSchema(responseComponent(method, path)).safeParse(body);
      expect(result.success, `${url}: ${JSON.stringify(result.error?.issues)}`).toBe(true);
    }
    const keyResult = componentSchema(
      responseComponent('POST', '/api/v1/projects/{project}/serviceAccounts/{account}/keys', '201'),
    ).safeParse(created);
    expect(keyResult.success, JSON.stringify(keyResult.error?.issues)).toBe(true);
    const webhookResult = componentSchema(
      responseComponent('POST', '/api/v1/projects/{project}/webhooks', '201'),
    ).safeParse(webhook);
    expect(webhookResult.success, JSON.stringify(webhookResult.error?.issues)).toBe(true);
    // The schemas are strict enough to notice a field the document does not describe.
    const project = await admin.ok('GET', '/api/v1/projects/shapes');
    expect(componentSchema('Project').safeParse({ ...project, extra: 1 }).success).toBe(false);
  });
});
