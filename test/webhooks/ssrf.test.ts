import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TargetGuard } from '../../src/webhooks/target-guard.js';
import { sendWebhook } from '../../src/webhooks/webhook-sender.js';
import {
  type ApiClient,
  adminClient,
  createProject,
  createRepository,
  expectApiError,
} from '../support/api-client.js';
import { pushImage } from '../support/oci-client.js';
import { startTestRegistry, type TestRegistry } from '../support/registry.js';
import { tempDir } from '../support/temp.js';
import { startWebhookReceiver, type WebhookReceiver } from '../support/webhook-receiver.js';
import {
  createWebhook,
  deliveriesOf,
  fastWebhooks,
  waitForDeliveryOutcome,
  webhooksPath,
} from '../support/webhooks.js';

const strict = { allowPrivateTargets: false, allowedTargets: [] };

describe('webhook targets the SSRF guard refuses at registration', { timeout: 60_000 }, () => {
  let registry: TestRegistry;
  let admin: ApiClient;

  beforeAll(async () => {
    registry = await startTestRegistry({ webhooks: { allowedTargets: ['198.51.100.7/32'] } });
    admin = await adminClient(registry.url);
    await createProject(admin, 'proj');
  });
  afterAll(() => registry?.close());

  it.each([
    ['http://127.0.0.1:8080/hook', /127\.0\.0\.1 is a loopback address/],
    ['http://127.8.9.10/hook', /loopback/],
    ['http://[::1]:8080/hook', /::1 is a loopback address/],
    ['http://[::ffff:127.0.0.1]/hook', /loopback/],
    ['http://localhost:8080/hook', /localhost resolves to .* loopback address/],
    ['http://169.254.169.254/latest/meta-data/', /169\.254\.169\.254 is a metadata address/],
    ['http://[fd00:ec2::254]/latest/meta-data/', /fd00:ec2::254 is a metadata address/],
    ['http://169.254.10.20/hook', /link-local/],
    ['http://[fe80::1]/hook', /link-local/],
    ['http://0.0.0.0:8080/hook', /unspecified/],
    ['http://[::]/hook', /unspecified/],
    ['http://10.1.2.3/hook', /private/],
    ['http://192.168.1.1/hook', /private/],
    ['http://[fd12:3456::1]/hook', /private/],
  ])('refuses %s', async (url, reason) => {
    const response = await admin.post(webhooksPath('proj'), { url, events: ['push'] });
    expectApiError(response, 400, 'INVALID_ARGUMENT', reason);
    expect(response.body.errors[0].message).toMatch(/^invalid field "url": /);
  });

  it('takes a public address, and one the administrator listed', async () => {
    await createWebhook(admin, 'proj', 'http://203.0.113.9/hook', ['push']);
    await createWebhook(admin, 'proj', 'http://198.51.100.7/hook', ['push']);
  });
});

describe('the guard with private targets allowed', () => {
  it('still refuses the metadata endpoints unless they are listed', () => {
    const open = new TargetGuard({ allowPrivateTargets: true, allowedTargets: [] });
    expect(open.refusal('127.0.0.1')).toBeUndefined();
    expect(open.refusal('10.0.0.1')).toBeUndefined();
    expect(open.refusal('169.254.169.254')).toMatch(/metadata address.*webhooks\.allowedTargets/);
    expect(open.refusal('fd00:ec2::254')).toMatch(/metadata/);
    // However an IPv4-mapped address is written, it is the IPv4 address it carries.
    const strictGuard = new TargetGuard(strict);
    expect(strictGuard.refusal('::ffff:7f00:1')).toMatch(/loopback/);
    expect(strictGuard.refusal('::ffff:169.254.169.254')).toMatch(/metadata/);
    const listed = new TargetGuard({ allowPrivateTargets: false, allowedTargets: ['169.254.169.254'] });
    expect(listed.refusal('169.254.169.254')).toBeUndefined();
    expect(listed.refusal('127.0.0.1')).toMatch(/loopback/);
  });
});

describe('the address is checked when the delivery connects', { timeout: 60_000 }, () => {
  let receiver: WebhookReceiver;

  beforeAll(async () => {
    receiver = await startWebhookReceiver();
  });
  afterAll(() => receiver?.close());

  const request = (url: string) => ({ url, body: '{}', headers: {}, timeoutMs: 5_000 });

  it('refuses a name that resolves to a loopback address at delivery time (DNS rebinding)', async () => {
    const port = new URL(receiver.url).port;
    let lookups = 0;
    // Public when the webhook was registered, loopback when the delivery connects.
    const rebinding = new TargetGuard(strict, async () => {
      lookups++;
      return [{ address: lookups === 1 ? '203.0.113.9' : '127.0.0.1', family: 4 }];
    });
    await rebinding.addressesOf('hooks.example');
    const outcome = await sendWebhook(rebinding, request(`http://hooks.example:${port}/hooks`));
    expect(outcome).toEqual({
      kind: 'refused',
      error: expect.stringMatching(/hooks\.example resolves to 127\.0\.0\.1 is a loopback address/),
    });
    expect(receiver.received).toEqual([]);
  });

  it('connects to the very address it checked', async () => {
    const port = new URL(receiver.url).port;
    const allowed = new TargetGuard(
      { allowPrivateTargets: false, allowedTargets: ['127.0.0.1'] },
      async () => [{ address: '127.0.0.1', family: 4 }],
    );
    const outcome = await sendWebhook(allowed, request(`http://hooks.example:${port}/hooks`));
    expect(outcome).toMatchObject({ kind: 'answered', statusCode: 200 });
    expect(receiver.received).toHaveLength(1);
  });

  it('counts a name that does not resolve as a failed attempt to retry, not a refusal', async () => {
    const unresolved = new TargetGuard(strict, async () => {
      throw Object.assign(new Error('getaddrinfo ENOTFOUND hooks.example'), { code: 'ENOTFOUND' });
    });
    expect(await sendWebhook(unresolved, request('http://hooks.example/hooks'))).toEqual({
      kind: 'failed',
      error: 'cannot resolve hooks.example: ENOTFOUND',
      aborted: false,
    });
  });

  it('refuses an IP literal target without any lookup', async () => {
    const outcome = await sendWebhook(new TargetGuard(strict), request(receiver.url));
    expect(outcome).toMatchObject({ kind: 'refused', error: expect.stringMatching(/loopback/) });
  });

  it('follows no redirect, cuts a slow receiver, and keeps only a prefix of the answer', async () => {
    const server = createServer((req, res) => {
      if (req.url === '/redirect') {
        res.writeHead(302, { location: 'http://169.254.169.254/latest/meta-data/' });
        res.end();
      } else if (req.url === '/slow') {
        setTimeout(() => res.end('late'), 2_000).unref();
      } else res.end('x'.repeat(64 * 1024));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const guard = new TargetGuard({ allowPrivateTargets: true, allowedTargets: [] });
    try {
      expect(await sendWebhook(guard, request(`${base}/redirect`))).toEqual({
        kind: 'answered',
        statusCode: 302,
        responsePrefix: '',
      });
      expect(await sendWebhook(guard, { ...request(`${base}/slow`), timeoutMs: 200 })).toEqual({
        kind: 'failed',
        error: 'no answer within 200 ms',
        aborted: false,
      });
      const big = await sendWebhook(guard, request(`${base}/big`));
      expect(big).toMatchObject({ kind: 'answered', statusCode: 200 });
      expect(big.kind === 'answered' && big.responsePrefix.length).toBe(1024);
    } finally {
      server.closeAllConnections();
      server.close();
    }
  });
});

describe('a delivery whose target is no longer allowed', { timeout: 60_000 }, () => {
  it('is refused at delivery time, recorded as failed and not retried', async () => {
    const data = await tempDir('mistrive-webhooks-ssrf-');
    const receiver = await startWebhookReceiver();
    try {
      // Registered while the administrator allowed private targets…
      const open = await startTestRegistry({ dataDir: data.path, webhooks: fastWebhooks });
      const admin = await adminClient(open.url);
      await createProject(admin, 'proj');
      await createRepository(admin, 'proj', 'app');
      const { webhook } = await createWebhook(admin, 'proj', receiver.url, ['push']);
      await open.close();

      // …and delivered after the allowance was withdrawn.
      const strictRegistry = await startTestRegistry({
        dataDir: data.path,
        webhooks: { ...fastWebhooks, allowPrivateTargets: false },
      });
      try {
        const client = await adminClient(strictRegistry.url);
        await pushImage(strictRegistry.url, 'proj/app/api', 'v1');
        const [delivery] = await deliveriesOf(client, 'proj', webhook.id);
        const detail = await waitForDeliveryOutcome(client, 'proj', delivery.id);
        expect(detail).toMatchObject({ status: 'failed', attempts: 1 });
        expect(detail.lastError).toMatch(/127\.0\.0\.1 is a loopback address/);
        expect(detail.attemptLog[0].statusCode).toBeUndefined();
        expect(receiver.received).toEqual([]);
      } finally {
        await strictRegistry.close();
      }
    } finally {
      await receiver.close();
      await data.remove();
    }
  });
});
