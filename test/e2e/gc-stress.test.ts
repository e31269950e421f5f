import { randomBytes } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { collectThroughApi } from '../gc/support.js';
import { signInAdmin } from '../support/admin-session.js';
import { blobFiles } from '../support/data-dir.js';
import { imageManifest, sha256 } from '../support/oci-client.js';
import { type Daemon, startDaemon } from '../support/registry.js';
import { tempDir } from '../support/temp.js';

/**
 * Several clients push images whose layers overlap, delete and retag, while the daemon collects
 * garbage in a loop with gc.delay near zero (500 ms), and is killed with SIGKILL in the middle and restarted.
 * Afterwards every image a client got a 201 for and did not delete must pull and verify, and once
 * collected, the store must hold exactly the blobs the remaining manifests reference.
 */

const clients = 4;
const runMs = 12_000;
const names = ['stress/repo/a', 'stress/repo/b', 'stress/repo/c'];
const sharedLayers = Array.from({ length: 6 }, (_, i) => randomBytes(2048 + i * 512));

interface Pushed {
  readonly name: string;
  readonly digest: string;
  readonly manifest: Buffer;
  readonly blobs: Map<string, Buffer>;
}

class Target {
  url = '';
  token = '';
  async fetch(path: string, init: RequestInit = {}): Promise<Response> {
    const headers = new Headers(init.headers);
    headers.set('authorization', `Bearer ${this.token}`);
    return fetch(`${this.url}${path}`, { ...init, headers });
  }
}

async function pushOne(
  target: Target,
  name: string,
  tag: string,
  client: number,
  round: number,
): Promise<Pushed | undefined> {
  const layers = [
    sharedLayers[(client + round) % sharedLayers.length] as Buffer,
    sharedLayers[(client * 3 + round + 1) % sharedLayers.length] as Buffer,
    randomBytes(1024),
  ];
  const config = Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', client, round }));
  const blobs = new Map<string, Buffer>([
    [sha256(config), config],
    ...layers.map((l) => [sha256(l), l] as const),
  ]);
  for (const [digest, bytes] of blobs) {
    // As docker does: ask first, upload only what the registry does not say it has.
    const head = await target.fetch(`/v2/${name}/blobs/${digest}`, { method: 'HEAD' });
    if (head.status === 200) continue;
    const put = await target.fetch(`/v2/${name}/blobs/uploads/?digest=${digest}`, {
      method: 'POST',
      body: bytes,
    });
    if (put.status !== 201) return undefined;
  }
  const manifest = imageManifest(
    { digest: sha256(config), size: config.length },
    layers.map((layer) => ({ digest: sha256(layer), size: layer.length })),
  );
  const response = await target.fetch(`/v2/${name}/manifests/${tag}`, {
    method: 'PUT',
    headers: { 'content-type': 'application/vnd.oci.image.manifest.v1+json' },
    body: manifest,
  });
  if (response.status === 201) return { name, digest: sha256(manifest), manifest, blobs };
  // Refused because a blob was collected between its upload and the manifest: allowed with a delay this short.
  const body = await response.text();
  if (response.status !== 404 || !body.includes('MANIFEST_BLOB_UNKNOWN')) {
    throw new Error(`manifest PUT answered ${response.status}: ${body}`);
  }
  return undefined;
}

describe('garbage collection under concurrent pushes, deletes and a crash', { timeout: 240_000 }, () => {
  let work: Awaited<ReturnType<typeof tempDir>>;
  let daemon: Daemon | undefined;

  afterAll(async () => {
    await daemon?.stop();
    await work?.remove();
  });

  it('loses no promised image and leaves no unreferenced blob', async () => {
    work = await tempDir('mistrive-gc-stress-');
    const dataDir = join(work.path, 'data');
    const config = join(work.path, 'config.yaml');
    await writeFile(
      config,
      'autoCreateRepositories: true\ngc:\n  interval: 1ms\n  delay: 500ms\n  lease: 2s\n',
    );
    const target = new Target();
    const start = async () => {
      daemon = await startDaemon(dataDir, ['--config', config]);
      target.url = daemon.url;
      target.token = daemon.adminToken;
    };
    await start();

    const live = new Map<string, Pushed>();
    const attempted = new Map<string, Pushed>();
    let stop = false;
    let restarting: Promise<void> | undefined;
    const client = async (id: number) => {
      for (let round = 0; !stop; round++) {
        await restarting;
        const name = names[(id + round) % names.length] as string;
        try {
          const pushed = await pushOne(target, name, `c${id}-${round}`, id, round);
          if (!pushed) continue;
          live.set(`${name}@${pushed.digest}`, pushed);
          attempted.set(`${name}@${pushed.digest}`, pushed);
          // Retag now and then: the same manifest under a second tag.
          if (round % 3 === 0) {
            await target.fetch(`/v2/${name}/manifests/retag-${id}`, {
              method: 'PUT',
              headers: { 'content-type': 'application/vnd.oci.image.manifest.v1+json' },
              body: pushed.manifest,
            });
          }
          // Delete one of this client's earlier images now and then: its layers overlap others'.
          if (round % 2 === 1) {
            const mine = [...live.entries()].find(([, image]) => image !== pushed && image.name === name);
            if (mine) {
              live.delete(mine[0]);
              const response = await target.fetch(`/v2/${mine[1].name}/manifests/${mine[1].digest}`, {
                method: 'DELETE',
              });
              if (response.status !== 202) live.set(mine[0], mine[1]);
            }
          }
        } catch (error) {
          // A request cut by the kill: its outcome is unknown, so the image is not counted as promised.
          if (!restarting && !(error instanceof TypeError)) throw error;
        }
      }
    };
    const running = Array.from({ length: clients }, (_, id) => client(id));
    await new Promise((resolve) => setTimeout(resolve, runMs / 2));
    // SIGKILL while collections run back to back, then a restart on the same data.
    restarting = (async () => {
      await daemon?.kill();
      await start();
      await signInAdmin(target.url);
    })();
    await restarting;
    restarting = undefined;
    await new Promise((resolve) => setTimeout(resolve, runMs / 2));
    stop = true;
    await Promise.all(running);
    expect(live.size).toBeGreaterThan(5);

    // Every image a client was promised and did not delete pulls, and its bytes verify.
    for (const image of live.values()) {
      const manifest = await target.fetch(`/v2/${image.name}/manifests/${image.digest}`);
      expect(manifest.status, `${image.name}@${image.digest}`).toBe(200);
      expect(sha256(Buffer.from(await manifest.arrayBuffer()))).toBe(image.digest);
      for (const digest of image.blobs.keys()) {
        const blob = await target.fetch(`/v2/${image.name}/blobs/${digest}`);
        expect(blob.status, `${image.name} blob ${digest}`).toBe(200);
        expect(sha256(Buffer.from(await blob.arrayBuffer()))).toBe(digest);
      }
    }

    // Past the delay, a collection leaves exactly what the stored manifests reference. Pushes cut
    // by the kill may have stored manifests no client heard of: they count as referenced if stored.
    await new Promise((resolve) => setTimeout(resolve, 1000));
    await collectThroughApi(target.url);
    const referenced = new Set<string>();
    for (const image of attempted.values()) {
      const stored = await target.fetch(`/v2/${image.name}/manifests/${image.digest}`, { method: 'HEAD' });
      if (stored.status !== 200) continue;
      referenced.add(image.digest);
      for (const digest of image.blobs.keys()) referenced.add(digest);
    }
    const files = (await blobFiles(dataDir)).map((file) => file.digest);
    expect(files.filter((digest) => !referenced.has(digest))).toEqual([]);
    expect([...referenced].filter((digest) => !files.includes(digest))).toEqual([]);
  });
});
