import { randomBytes } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CreatedWebhook, Webhook, WebhookDelivery } from '../../src/client/webhooks-api.js';
import { verifySignature } from '../../src/webhooks/signatures.js';
import { testAdminPassword } from '../support/admin-password.js';
import { type CliHome, cliHome, mistrive, mistriveJson, signIn } from '../support/cli.js';
import { buildImage, tarGzLayer, writeOciLayout } from '../support/oci-layout.js';
import { type Daemon, startDaemon } from '../support/registry.js';
import { pushLayout } from '../support/skopeo.js';
import { tempDir } from '../support/temp.js';
import { waitFor } from '../support/wait.js';
import {
  type ReceivedDelivery,
  startWebhookReceiver,
  type WebhookReceiver,
} from '../support/webhook-receiver.js';

/** `mistrive webhooks …` end to end: the built CLI against `mistrive serve`, skopeo pushing. */
describe('webhook commands against mistrive serve', { timeout: 300_000 }, () => {
  let work: Awaited<ReturnType<typeof tempDir>>;
  let daemon: Daemon;
  let admin: CliHome;
  let receiver: WebhookReceiver;

  beforeAll(async () => {
    work = await tempDir('mistrive-webhooks-cli-');
    const config = join(work.path, 'serve.json');
    await writeFile(
      config,
      JSON.stringify({
        webhooks: {
          allowPrivateTargets: true,
          retryBackoff: '50ms',
          maxBackoff: '200ms',
          pollInterval: '50ms',
        },
      }),
    );
    daemon = await startDaemon(join(work.path, 'data'), ['--config', config]);
    receiver = await startWebhookReceiver();
    admin = await cliHome();
    await signIn(admin, daemon.url, 'admin', testAdminPassword);
    await mistriveJson(admin, ['projects', 'create', 'shop']);
    await mistriveJson(admin, ['repos', 'create', 'app', '--project', 'shop']);
  });
  afterAll(async () => {
    await daemon?.stop();
    await receiver?.close();
    await admin?.remove();
    await work?.remove();
  });

  it('creates, lists, describes, shows deliveries, redelivers and deletes', async () => {
    const generated = await mistriveJson<CreatedWebhook>(admin, [
      'webhooks',
      'create',
      '--project',
      'shop',
      '--url',
      `${receiver.url}?generated`,
      '--events',
      'delete,scan',
    ]);
    expect(generated.webhook.events).toEqual(['delete', 'scan-finished']);
    expect(generated.secret).toMatch(/^whsec_/);

    const secret = `given-${randomBytes(12).toString('hex')}`;
    const given = await mistriveJson<CreatedWebhook>(
      admin,
      [
        'webhooks',
        'create',
        '--project',
        'shop',
        '--url',
        receiver.url,
        '--events',
        'push',
        '--secret-stdin',
      ],
      { input: `${secret}\n` },
    );
    // A secret the owner gave is theirs already: it is not printed back.
    expect(given.secret).toBeUndefined();
    const id = given.webhook.id;

    const listed = await mistriveJson<{ webhooks: Webhook[] }>(admin, [
      'webhooks',
      'list',
      '--project',
      'shop',
    ]);
    expect(listed.webhooks.map((w) => w.id).sort()).toEqual([generated.webhook.id, id].sort());
    const piped = await mistrive(admin, ['webhooks', 'list', '--project', 'shop']);
    expect(piped.stdout).toContain(`${id}\t${receiver.url}\tpush\t`);
    expect(piped.stdout).not.toContain(secret);
    expect(await mistriveJson<Webhook>(admin, ['webhooks', 'describe', id, '--project', 'shop'])).toEqual(
      given.webhook,
    );

    const layout = join(work.path, 'image');
    await writeOciLayout(layout, 'v1', buildImage([await tarGzLayer({ 'srv/app': randomBytes(128) })]));
    await pushLayout(daemon.url, layout, 'v1', 'shop/app/web');
    const [delivery] = (await receiver.waitForDeliveries(1)) as [ReceivedDelivery];
    const timestamp = Number(delivery.headers['x-mistrive-timestamp']);
    expect(
      verifySignature(secret, timestamp, delivery.body, String(delivery.headers['x-mistrive-signature'])),
    ).toBe(true);

    const deliveries = await waitFor('the delivery to be recorded', async () => {
      const list = await mistriveJson<{ deliveries: WebhookDelivery[] }>(admin, [
        'webhooks',
        'deliveries',
        id,
        '--project',
        'shop',
      ]);
      return list.deliveries[0]?.status === 'succeeded' ? list.deliveries : undefined;
    });
    expect(deliveries).toHaveLength(1);
    expect(deliveries[0]).toMatchObject({ eventType: 'push', attempts: 1, lastStatusCode: 200 });
    const table = await mistrive(admin, ['webhooks', 'deliveries', id, '--project', 'shop']);
    expect(table.stdout).toContain(`${deliveries[0]?.id}\tpush\tsucceeded\t1\t200\t`);

    const again = await mistriveJson<WebhookDelivery>(admin, [
      'webhooks',
      'redeliver',
      String(deliveries[0]?.id),
      '--project',
      'shop',
    ]);
    expect(again.redeliveryOf).toBe(deliveries[0]?.id);
    const redelivered = (await receiver.waitForDeliveries(2))[1] as ReceivedDelivery;
    expect(redelivered.headers['x-mistrive-delivery']).toBe(again.id);
    expect(redelivered.body).toBe(delivery.body);

    const deleted = await mistrive(admin, ['webhooks', 'delete', id, '--project', 'shop', '--yes']);
    expect(deleted.exitCode, deleted.stderr).toBe(0);
    const gone = await mistrive(admin, ['webhooks', 'describe', id, '--project', 'shop']);
    expect(gone.exitCode).not.toBe(0);
    expect(gone.stderr).toMatch(/webhook .* not found in project shop/);
  });

  it('says what is wrong with a bad event name or a refused target', async () => {
    const badEvent = await mistrive(admin, [
      'webhooks',
      'create',
      '--project',
      'shop',
      '--url',
      receiver.url,
      '--events',
      'push,pull',
    ]);
    expect(badEvent.exitCode).not.toBe(0);
    expect(badEvent.stderr).toMatch(/unknown event "pull"/);
    const metadata = await mistrive(admin, [
      'webhooks',
      'create',
      '--project',
      'shop',
      '--url',
      'http://169.254.169.254/latest/meta-data/',
    ]);
    expect(metadata.exitCode).not.toBe(0);
    expect(metadata.stderr).toMatch(/169\.254\.169\.254 is a metadata address/);
  });
});
