import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifySignature } from '../../src/webhooks/signatures.js';
import { adminFetch } from '../support/admin-session.js';
import {
  type ApiClient,
  adminClient,
  createProject,
  createRepository,
  createUser,
  expectApiError,
  type Json,
} from '../support/api-client.js';
import { pushImage } from '../support/oci-client.js';
import { buildImage, tarGzLayer, writeOciLayout } from '../support/oci-layout.js';
import { startTestRegistry, type TestRegistry } from '../support/registry.js';
import { pushLayout } from '../support/skopeo.js';
import { tempDir } from '../support/temp.js';
import {
  type ReceivedDelivery,
  startWebhookReceiver,
  type WebhookReceiver,
} from '../support/webhook-receiver.js';
import {
  createWebhook,
  deliveriesOf,
  fastWebhooks,
  waitForDeliveryOutcome,
  webhooksPath,
} from '../support/webhooks.js';

/** Checks a delivery's signature the way the README tells a receiver to. */
function expectSigned(delivery: ReceivedDelivery, secret: string): void {
  const timestamp = Number(delivery.headers['x-mistrive-timestamp']);
  expect(Number.isInteger(timestamp)).toBe(true);
  const signature = String(delivery.headers['x-mistrive-signature']);
  expect(signature).toMatch(/^sha256=[0-9a-f]{64}$/);
  expect(verifySignature(secret, timestamp, delivery.body, signature)).toBe(true);
  // Any other secret, or a changed body, fails the check.
  expect(verifySignature(`${secret}x`, timestamp, delivery.body, signature)).toBe(false);
  expect(verifySignature(secret, timestamp, `${delivery.body} `, signature)).toBe(false);
}

describe('webhook deliveries', { timeout: 120_000 }, () => {
  let registry: TestRegistry;
  let admin: ApiClient;
  let receiver: WebhookReceiver;
  let work: Awaited<ReturnType<typeof tempDir>>;

  beforeAll(async () => {
    registry = await startTestRegistry({ webhooks: { ...fastWebhooks, maxAttempts: 4 } });
    admin = await adminClient(registry.url);
    receiver = await startWebhookReceiver();
    work = await tempDir('mistrive-webhooks-');
    await createProject(admin, 'proj');
    await createRepository(admin, 'proj', 'app');
    await createProject(admin, 'other');
    await createRepository(admin, 'other', 'app');
  });
  afterAll(async () => {
    await registry?.close();
    await receiver?.close();
    await work?.remove();
  });

  let pushDelivery: ReceivedDelivery;
  let pushWebhook: Json;
  let secret: string;

  it('delivers a signed push event when skopeo pushes, and records the outcome', async () => {
    const created = await createWebhook(admin, 'proj', receiver.url, ['push', 'delete']);
    expect(created.secret).toMatch(/^whsec_[A-Za-z0-9_-]{43}$/);
    expect(created.webhook).toMatchObject({
      project: 'proj',
      url: receiver.url,
      events: ['push', 'delete'],
      createdBy: 'user:admin',
    });
    pushWebhook = created.webhook;
    secret = created.secret;
    // A webhook of another project hears nothing of this one.
    const elsewhere = await startWebhookReceiver();
    await createWebhook(admin, 'other', elsewhere.url, ['push']);

    const image = buildImage([await tarGzLayer({ 'app/run': randomBytes(256) })]);
    const source = join(work.path, 'image');
    await writeOciLayout(source, 'v1', image);
    await pushLayout(registry.url, source, 'v1', 'proj/app/api');

    [pushDelivery] = (await receiver.waitForDeliveries(1)) as [ReceivedDelivery];
    expectSigned(pushDelivery, secret);
    expect(pushDelivery.headers['content-type']).toBe('application/json');
    expect(pushDelivery.headers['x-mistrive-event']).toBe('push');
    const payload = JSON.parse(pushDelivery.body);
    expect(payload).toEqual({
      id: pushDelivery.headers['x-mistrive-event-id'],
      type: 'push',
      occurredAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
      project: 'proj',
      repository: 'app',
      image: 'api',
      name: 'proj/app/api',
      digest: image.manifest.descriptor.digest,
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      tags: ['v1'],
      actor: 'user:admin',
    });

    const delivered = await waitForDeliveryOutcome(
      admin,
      'proj',
      String(pushDelivery.headers['x-mistrive-delivery']),
    );
    expect(delivered).toMatchObject({
      webhook: pushWebhook.id,
      eventId: payload.id,
      eventType: 'push',
      status: 'succeeded',
      attempts: 1,
      lastStatusCode: 200,
      payload,
    });
    expect(delivered.attemptLog).toEqual([
      {
        attempt: 1,
        startedAt: expect.any(String),
        durationMs: expect.any(Number),
        statusCode: 200,
        responsePrefix: 'thanks',
      },
    ]);
    expect(elsewhere.received).toEqual([]);
    await elsewhere.close();
    // The secret is shown once: never in a read.
    const read = await admin.ok('GET', `${webhooksPath('proj')}/${pushWebhook.id}`);
    expect(read).toEqual(pushWebhook);
    expect(JSON.stringify(await admin.ok('GET', webhooksPath('proj')))).not.toContain(secret);
  });

  it('redelivers on request: a new delivery of the same event, signed again', async () => {
    const original = String(pushDelivery.headers['x-mistrive-delivery']);
    const before = receiver.received.length;
    const queued = await admin.ok('POST', `/api/v1/projects/proj/webhookDeliveries/${original}/redeliver`);
    expect(queued).toMatchObject({ redeliveryOf: original, eventType: 'push', webhook: pushWebhook.id });
    expect(queued.id).not.toBe(original);
    const again = (await receiver.waitForDeliveries(before + 1))[before] as ReceivedDelivery;
    expect(again.headers['x-mistrive-delivery']).toBe(queued.id);
    expect(again.body).toBe(pushDelivery.body);
    expectSigned(again, secret);
    expect(await waitForDeliveryOutcome(admin, 'proj', queued.id)).toMatchObject({ status: 'succeeded' });
    const listed = await deliveriesOf(admin, 'proj', pushWebhook.id);
    expect(listed.map((d: Json) => d.id)).toEqual([queued.id, original]);
    // A delivery of another project is not found through this one.
    expectApiError(
      await admin.post(`/api/v1/projects/other/webhookDeliveries/${original}/redeliver`),
      404,
      'NOT_FOUND',
    );
  });

  it('tells of deletes of a tag, a manifest and an image, naming who deleted', async () => {
    const before = receiver.received.length;
    const pushed = await pushImage(registry.url, 'proj/app/gone', 'v1');
    const tagDelete = await adminFetch(`${registry.url}/v2/proj/app/gone/manifests/v1`, { method: 'DELETE' });
    expect(tagDelete.status).toBe(202);
    await admin.ok('DELETE', `/api/v1/projects/proj/repositories/app/images/gone/digests/${pushed.digest}`);
    await pushImage(registry.url, 'proj/app/gone', 'v2');
    await admin.ok('DELETE', '/api/v1/projects/proj/repositories/app/images/gone');
    const bodies = (await receiver.waitForDeliveries(before + 5))
      .slice(before)
      .map((delivery) => JSON.parse(delivery.body));
    const deletes = bodies.filter((body) => body.type === 'delete');
    const where = {
      type: 'delete',
      project: 'proj',
      repository: 'app',
      image: 'gone',
      name: 'proj/app/gone',
    };
    expect(deletes.map(({ id: _, occurredAt: __, ...rest }) => rest)).toEqual([
      { ...where, target: 'tag', tag: 'v1', actor: 'user:admin' },
      { ...where, target: 'manifest', digest: pushed.digest, actor: 'user:admin' },
      { ...where, target: 'image', actor: 'user:admin' },
    ]);
  });

  it('retries a failing receiver with backoff and records each attempt', async () => {
    const flaky = await startWebhookReceiver([500, 503, 200]);
    const { webhook, secret: flakySecret } = await createWebhook(admin, 'proj', flaky.url, ['push']);
    const pushed = await pushImage(registry.url, 'proj/app/flaky', 'v1');
    const received = await flaky.waitForDeliveries(3);
    const ids = new Set(received.map((delivery) => delivery.headers['x-mistrive-delivery']));
    expect(ids.size).toBe(1);
    for (const delivery of received) expectSigned(delivery, flakySecret);
    expect(JSON.parse((received[2] as ReceivedDelivery).body)).toMatchObject({ digest: pushed.digest });
    const detail = await waitForDeliveryOutcome(admin, 'proj', String([...ids][0]));
    expect(detail).toMatchObject({ status: 'succeeded', attempts: 3, lastStatusCode: 200 });
    expect(detail.lastError).toBeUndefined();
    expect(detail.attemptLog.map((a: Json) => [a.attempt, a.statusCode, a.error, a.responsePrefix])).toEqual([
      [1, 500, 'the receiver answered 500', 'refused with 500'],
      [2, 503, 'the receiver answered 503', 'refused with 503'],
      [3, 200, undefined, 'thanks'],
    ]);
    // Backoff: each retry started no sooner than the configured wait after the one before.
    const starts = detail.attemptLog.map((a: Json) => Date.parse(a.startedAt));
    expect(starts[1] - starts[0]).toBeGreaterThanOrEqual(50);
    expect(starts[2] - starts[1]).toBeGreaterThanOrEqual(100);
    await admin.ok('DELETE', `${webhooksPath('proj')}/${webhook.id}`);
    await flaky.close();
  });

  it('gives up after the configured number of attempts and records the delivery as failed', async () => {
    const down = await startWebhookReceiver([502]);
    const { webhook } = await createWebhook(admin, 'proj', down.url, ['push']);
    await pushImage(registry.url, 'proj/app/down', 'v1');
    await down.waitForDeliveries(4);
    const [delivery] = await deliveriesOf(admin, 'proj', webhook.id);
    const detail = await waitForDeliveryOutcome(admin, 'proj', delivery.id);
    expect(detail).toMatchObject({
      status: 'failed',
      attempts: 4,
      lastStatusCode: 502,
      lastError: 'the receiver answered 502',
    });
    expect(detail.attemptLog).toHaveLength(4);
    expect(down.received).toHaveLength(4);
    await admin.ok('DELETE', `${webhooksPath('proj')}/${webhook.id}`);
    // Deleted with its records.
    expectApiError(
      await admin.get(`/api/v1/projects/proj/webhookDeliveries/${delivery.id}`),
      404,
      'NOT_FOUND',
    );
    await down.close();
  });

  it('lets only owners of the project manage webhooks', async () => {
    const editor = await createUser(admin, 'editor@example.com');
    await admin.ok(
      'POST',
      '/api/v1/projects/proj/iamPolicy/bindings',
      {
        member: 'user:editor@example.com',
        role: 'artifactstore.editor',
      },
      200,
    );
    expectApiError(
      await editor.post(webhooksPath('proj'), { url: receiver.url, events: ['push'] }),
      403,
      'DENIED',
    );
    expectApiError(await editor.get(webhooksPath('proj')), 403, 'DENIED');
    expectApiError(await editor.get(webhooksPath('other')), 404, 'NAME_UNKNOWN');
  });

  it('goes with its project', async () => {
    await createProject(admin, 'short-lived');
    const { webhook } = await createWebhook(admin, 'short-lived', receiver.url, ['push']);
    await admin.ok('DELETE', '/api/v1/projects/short-lived');
    await createProject(admin, 'short-lived');
    expectApiError(await admin.get(`${webhooksPath('short-lived')}/${webhook.id}`), 404, 'NOT_FOUND');
    expect((await admin.ok('GET', webhooksPath('short-lived'))).webhooks).toEqual([]);
  });

  it('refuses a bad webhook with a clear error', async () => {
    const cases: [unknown, RegExp][] = [
      [{ url: 'ftp://example.com/x', events: ['push'] }, /url.*http/],
      [{ url: receiver.url, events: [] }, /events.*at least one/],
      [{ url: receiver.url, events: ['pull'] }, /events/],
      [{ url: receiver.url, events: ['push'], secret: 'short' }, /secret.*at least 16/],
      [{ url: 'http://user:pw@127.0.0.1:9/x', events: ['push'] }, /user name or password/],
    ];
    for (const [body, message] of cases) {
      expectApiError(await admin.post(webhooksPath('proj'), body), 400, 'INVALID_ARGUMENT', message);
    }
  });
});
