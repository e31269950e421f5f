import { randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifySignature } from '../../src/webhooks/signatures.js';
import { adminClient, createProject, createRepository } from '../support/api-client.js';
import { FakeClock } from '../support/fake-clock.js';
import { pushImage } from '../support/oci-client.js';
import { buildImage, tarGzLayer } from '../support/oci-layout.js';
import { startTestRegistry } from '../support/registry.js';
import { pushBuiltImage, startScanningRegistry, waitForScan } from '../support/scanning.js';
import { tempDir } from '../support/temp.js';
import { fullCounts, installStandin, type Standin } from '../support/trivy-standin.js';
import { waitFor } from '../support/wait.js';
import { type ReceivedDelivery, startWebhookReceiver } from '../support/webhook-receiver.js';
import { createWebhook, deliveriesOf, fastWebhooks, waitForDeliveryOutcome } from '../support/webhooks.js';

describe('scan-finished events', { timeout: 120_000 }, () => {
  let standin: Standin;

  beforeAll(async () => {
    standin = await installStandin({ report: 'debian-buster.json' });
  });
  afterAll(() => standin?.remove());

  it('tells each project holding the scanned digest, with the severity counts', async () => {
    const registry = await startScanningRegistry(standin, {}, { webhooks: fastWebhooks });
    const receiver = await startWebhookReceiver();
    try {
      const admin = await adminClient(registry.url);
      await createProject(admin, 'proj');
      await createRepository(admin, 'proj', 'scanned', { scanning: true });
      const { secret } = await createWebhook(admin, 'proj', receiver.url, ['scan-finished']);
      const image = buildImage([
        await tarGzLayer({
          'etc/os-release': 'PRETTY_NAME="Debian GNU/Linux 10 (buster)"\nID=debian\nVERSION_ID="10"\n',
          'bin/tool': randomBytes(1024),
        }),
      ]);
      const digest = await pushBuiltImage(registry.url, 'proj/scanned/api', 'v1', image);
      await waitForScan(registry.registry.scans, digest);

      const [delivery] = (await receiver.waitForDeliveries(1)) as [ReceivedDelivery];
      expect(delivery.headers['x-mistrive-event']).toBe('scan-finished');
      const timestamp = Number(delivery.headers['x-mistrive-timestamp']);
      expect(
        verifySignature(secret, timestamp, delivery.body, String(delivery.headers['x-mistrive-signature'])),
      ).toBe(true);
      const counts = fullCounts('debian-buster.json');
      expect(JSON.parse(delivery.body)).toEqual({
        id: expect.any(String),
        type: 'scan-finished',
        occurredAt: expect.any(String),
        project: 'proj',
        digest,
        images: ['proj/scanned/api'],
        status: 'succeeded',
        summary: {
          critical: counts.CRITICAL,
          high: counts.HIGH,
          medium: counts.MEDIUM,
          low: counts.LOW,
          unknown: counts.UNKNOWN,
        },
      });
      // Only the scan was subscribed to: the push itself sent nothing.
      expect(receiver.received).toHaveLength(1);
    } finally {
      await registry.close();
      await receiver.close();
    }
  });

  it('tells of a scan that failed for good, with the reason', async () => {
    const failing = await installStandin({ mode: 'fail' });
    const registry = await startScanningRegistry(failing, { maxAttempts: 1 }, { webhooks: fastWebhooks });
    const receiver = await startWebhookReceiver();
    try {
      const admin = await adminClient(registry.url);
      await createProject(admin, 'proj');
      await createRepository(admin, 'proj', 'scanned', { scanning: true });
      await createWebhook(admin, 'proj', receiver.url, ['scan-finished']);
      const { digest } = await pushImage(registry.url, 'proj/scanned/api', 'v1');
      const [delivery] = (await receiver.waitForDeliveries(1)) as [ReceivedDelivery];
      expect(JSON.parse(delivery.body)).toMatchObject({
        type: 'scan-finished',
        digest,
        status: 'failed',
        reason: expect.any(String),
      });
      expect(JSON.parse(delivery.body).summary).toBeUndefined();
    } finally {
      await registry.close();
      await receiver.close();
      await failing.remove();
    }
  });
});

describe('the delivery queue', { timeout: 120_000 }, () => {
  it('deletes the records of deliveries finished longer ago than webhooks.keepDeliveries', async () => {
    const data = await tempDir('mistrive-webhooks-keep-');
    const receiver = await startWebhookReceiver();
    const webhooks = { ...fastWebhooks, keepDeliveries: '7d' };
    try {
      const clock = new FakeClock();
      const first = await startTestRegistry({ dataDir: data.path, webhooks }, { clock });
      const admin = await adminClient(first.url);
      await createProject(admin, 'proj');
      await createRepository(admin, 'proj', 'app');
      const { webhook } = await createWebhook(admin, 'proj', receiver.url, ['push']);
      await pushImage(first.url, 'proj/app/api', 'v1');
      const [old] = await deliveriesOf(admin, 'proj', webhook.id);
      await waitForDeliveryOutcome(admin, 'proj', old.id);
      clock.advance(6 * 86_400_000);
      const later = await adminClient(first.url);
      const recent = await later.ok('POST', `/api/v1/projects/proj/webhookDeliveries/${old.id}/redeliver`);
      await waitForDeliveryOutcome(later, 'proj', recent.id);
      await first.close();

      // Two days on, the first delivery finished eight days ago, the redelivery two: a start purges.
      clock.advance(2 * 86_400_000);
      const second = await startTestRegistry({ dataDir: data.path, webhooks }, { clock });
      try {
        const client = await adminClient(second.url);
        const kept = await waitFor('the old record to go', async () => {
          const deliveries = await deliveriesOf(client, 'proj', webhook.id);
          return deliveries.length === 1 ? deliveries : undefined;
        });
        expect(kept.map((delivery: { id: string }) => delivery.id)).toEqual([recent.id]);
      } finally {
        await second.close();
      }
    } finally {
      await receiver.close();
      await data.remove();
    }
  });

  it('gives a delivery cut by shutdown back to the queue, its attempt not counted', async () => {
    const data = await tempDir('mistrive-webhooks-shutdown-');
    // A receiver that never answers: the delivery is in flight when the registry stops.
    const hanging = createServer(() => {});
    await new Promise<void>((resolve) => hanging.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(hanging.address() as AddressInfo).port}/hooks`;
    try {
      const registry = await startTestRegistry({ dataDir: data.path, webhooks: fastWebhooks });
      const admin = await adminClient(registry.url);
      await createProject(admin, 'proj');
      await createRepository(admin, 'proj', 'app');
      const { webhook } = await createWebhook(admin, 'proj', url, ['push']);
      await pushImage(registry.url, 'proj/app/api', 'v1');
      await waitFor('the delivery to be in flight', async () => {
        const [delivery] = await deliveriesOf(admin, 'proj', webhook.id);
        return delivery?.status === 'delivering' ? delivery : undefined;
      });
      await registry.close();

      const idle = await startTestRegistry({ dataDir: data.path, webhooks: { ...fastWebhooks, workers: 0 } });
      try {
        const [delivery] = await deliveriesOf(await adminClient(idle.url), 'proj', webhook.id);
        expect(delivery).toMatchObject({ status: 'pending', attempts: 0 });
      } finally {
        await idle.close();
      }
    } finally {
      hanging.closeAllConnections();
      hanging.close();
      await data.remove();
    }
  });

  it('keeps deliveries across a restart: queued by one run, sent by the next', async () => {
    const data = await tempDir('mistrive-webhooks-restart-');
    const receiver = await startWebhookReceiver();
    try {
      // No sender on the first run: the push only queues.
      const first = await startTestRegistry({
        dataDir: data.path,
        webhooks: { ...fastWebhooks, workers: 0 },
      });
      const admin = await adminClient(first.url);
      await createProject(admin, 'proj');
      await createRepository(admin, 'proj', 'app');
      const { webhook } = await createWebhook(admin, 'proj', receiver.url, ['push']);
      const { digest } = await pushImage(first.url, 'proj/app/api', 'v1');
      const [queued] = await deliveriesOf(admin, 'proj', webhook.id);
      expect(queued).toMatchObject({ status: 'pending', attempts: 0 });
      await first.close();
      expect(receiver.received).toEqual([]);

      const second = await startTestRegistry({ dataDir: data.path, webhooks: fastWebhooks });
      try {
        const [delivery] = (await receiver.waitForDeliveries(1)) as [ReceivedDelivery];
        expect(delivery.headers['x-mistrive-delivery']).toBe(queued.id);
        expect(JSON.parse(delivery.body)).toMatchObject({ type: 'push', digest });
        const detail = await waitForDeliveryOutcome(await adminClient(second.url), 'proj', queued.id);
        expect(detail).toMatchObject({ status: 'succeeded', attempts: 1 });
      } finally {
        await second.close();
      }
    } finally {
      await receiver.close();
      await data.remove();
    }
  });
});
