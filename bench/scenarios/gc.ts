import { createHash, randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import Database from 'better-sqlite3';
import { loadServeConfig } from '../../src/config/config.js';
import { SqliteMetadataStore } from '../../src/db/sqlite/sqlite-metadata-store.js';
import { GarbageCollector } from '../../src/gc/collector.js';
import { BlobPromises } from '../../src/gc/promises.js';
import { systemClock } from '../../src/lib/clock.js';
import { createLogger } from '../../src/lib/logger.js';
import { startRegistry } from '../../src/server/app.js';
import { FilesystemBlobStore } from '../../src/storage/filesystem-blob-store.js';

/**
 * Garbage collection figures: one pass over a large store (seeded straight into the metadata and
 * the blob directory for speed, collected by the real collector), and push latency while the
 * collector runs in a loop compared with the same pushes while it is idle.
 */

const sha = (bytes: Buffer) => `sha256:${createHash('sha256').update(bytes).digest('hex')}`;

function blobPath(root: string, digest: string): string {
  const hex = digest.slice(7);
  return join(root, 'blobs', 'sha256', hex.slice(0, 2), hex);
}

export interface GcPassFigures {
  blobs: number;
  manifests: number;
  seconds: number;
  peakRssMb: number;
  bytesReclaimed: number;
  unreferencedBytes: number;
  exact: boolean;
}

/** Seeds `blobCount` blobs and `manifestCount` manifests (5 blobs each); the rest are unreferenced. */
export async function measureGcPass(blobCount = 100_000, manifestCount = 10_000): Promise<GcPassFigures> {
  const root = await mkdtemp(join(tmpdir(), 'mistrive-bench-gc-'));
  try {
    const metadata = SqliteMetadataStore.open(join(root, 'metadata.db'));
    await metadata.close();
    const db = new Database(join(root, 'metadata.db'));
    db.pragma('journal_mode = WAL');
    const past = Date.now() - 2 * 3_600_000;
    db.prepare(
      "INSERT INTO projects (id, organization_id, created_at, updated_at) VALUES ('p', 'default', 0, 0)",
    ).run();
    db.prepare(
      "INSERT INTO repositories (project_id, id, created_at, updated_at) VALUES ('p', 'r', 0, 0)",
    ).run();
    db.prepare(
      "INSERT INTO images (id, project_id, repository_id, name, created_at, touched_at) VALUES (1, 'p', 'r', 'p/r/i', ?, ?)",
    ).run(past, past);
    const insertBlob = db.prepare('INSERT INTO blobs (digest, size) VALUES (?, ?)');
    const insertLink = db.prepare(
      'INSERT INTO image_blobs (image_id, digest, created_at, promised_at) VALUES (1, ?, ?, ?)',
    );
    const insertManifest = db.prepare(
      "INSERT INTO manifests (image_id, digest, media_type, size, created_at) VALUES (1, ?, 'application/vnd.oci.image.manifest.v1+json', ?, ?)",
    );
    const insertReference = db.prepare(
      'INSERT INTO manifest_references (image_id, manifest_digest, digest) VALUES (1, ?, ?)',
    );
    const layerCount = blobCount - manifestCount;
    const referencedLayers = manifestCount * 5;
    let unreferencedBytes = 0;
    const layers: string[] = [];
    const files: [string, Buffer][] = [];
    db.transaction(() => {
      for (let i = 0; i < layerCount; i++) {
        const bytes = randomBytes(64 + (i % 64));
        const digest = sha(bytes);
        layers.push(digest);
        files.push([digest, bytes]);
        insertBlob.run(digest, bytes.length);
        if (i < referencedLayers) insertLink.run(digest, past, past);
        else unreferencedBytes += bytes.length;
      }
      for (let m = 0; m < manifestCount; m++) {
        const bytes = Buffer.from(JSON.stringify({ m, layers: layers.slice(m * 5, m * 5 + 5) }));
        const digest = sha(bytes);
        files.push([digest, bytes]);
        insertBlob.run(digest, bytes.length);
        insertManifest.run(digest, bytes.length, past);
        for (const layer of layers.slice(m * 5, m * 5 + 5)) insertReference.run(digest, layer);
      }
    })();
    db.close();
    for (const [digest, bytes] of files) {
      const path = blobPath(root, digest);
      await mkdir(dirname(path), { recursive: true });
      await writeFile(path, bytes);
    }
    // The seed's buffers are not the collector's memory: dropped before its peak is measured.
    files.length = 0;
    layers.length = 0;

    const store = SqliteMetadataStore.open(join(root, 'metadata.db'));
    const blobs = new FilesystemBlobStore(root);
    await blobs.init();
    const collector = new GarbageCollector({
      lifecycle: store.lifecycle,
      blobs,
      clock: systemClock,
      logger: createLogger('silent'),
      promises: new BlobPromises(3_600_000),
      leaseMs: 30_000,
      purgeUploads: async () => 0,
    });
    const rssBefore = process.memoryUsage().rss;
    let peak = rssBefore;
    const sampler = setInterval(() => {
      peak = Math.max(peak, process.memoryUsage().rss);
    }, 20);
    const started = performance.now();
    const report = await collector.run('bench', { dryRun: false });
    const seconds = (performance.now() - started) / 1000;
    clearInterval(sampler);
    peak = Math.max(peak, process.memoryUsage().rss);
    await store.close();
    if (report === 'busy') throw new Error('collector busy');
    return {
      blobs: blobCount,
      manifests: manifestCount,
      seconds,
      peakRssMb: peak / 1e6,
      bytesReclaimed: report.bytesReclaimed,
      unreferencedBytes,
      exact:
        report.bytesReclaimed === unreferencedBytes && report.blobs.count === layerCount - referencedLayers,
    };
  } finally {
    await rm(root, { recursive: true, force: true });
  }
}

export interface PushFigures {
  pushesPerSecond: number;
  p99ManifestPutMs: number;
}

/** Pushes `images` small images with `concurrency` clients; optionally with the collector looping. */
export async function measurePushes(
  images: number,
  concurrency: number,
  collecting: boolean,
): Promise<PushFigures> {
  const root = await mkdtemp(join(tmpdir(), 'mistrive-bench-gc-push-'));
  const config = loadServeConfig(
    undefined,
    {
      port: 0,
      logLevel: 'silent',
      dataDir: root,
      autoCreateRepositories: true,
      gc: { interval: '0s', delay: '1h' },
    },
    { MISTRIVE_ADMIN_PASSWORD: 'bench-password-123' },
  );
  const registry = await startRegistry(config);
  try {
    const tokenResponse = await fetch(`${registry.url}/oauth/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        grant_type: 'password',
        client_id: 'mistrive-cli',
        username: 'admin',
        password: 'bench-password-123',
      }),
    });
    const { access_token: token } = (await tokenResponse.json()) as { access_token: string };
    const auth = { authorization: `Bearer ${token}` };
    let looping = collecting;
    const loop = (async () => {
      while (looping) await registry.maintenance.collect({ dryRun: false, scheduled: true });
    })();
    const latencies: number[] = [];
    let next = 0;
    const started = performance.now();
    const worker = async () => {
      for (let i = next++; i < images; i = next++) {
        const layer = randomBytes(4096);
        const config = Buffer.from(JSON.stringify({ i }));
        for (const bytes of [layer, config]) {
          const response = await fetch(
            `${registry.url}/v2/p/r/bench${i % 20}/blobs/uploads/?digest=${sha(bytes)}`,
            {
              method: 'POST',
              headers: auth,
              body: bytes,
            },
          );
          if (response.status !== 201) throw new Error(`blob push ${response.status}`);
        }
        const manifest = Buffer.from(
          JSON.stringify({
            schemaVersion: 2,
            mediaType: 'application/vnd.oci.image.manifest.v1+json',
            config: {
              mediaType: 'application/vnd.oci.image.config.v1+json',
              digest: sha(config),
              size: config.length,
            },
            layers: [
              { mediaType: 'application/vnd.oci.image.layer.v1.tar', digest: sha(layer), size: layer.length },
            ],
          }),
        );
        const putStarted = performance.now();
        const response = await fetch(`${registry.url}/v2/p/r/bench${i % 20}/manifests/v${i}`, {
          method: 'PUT',
          headers: { ...auth, 'content-type': 'application/vnd.oci.image.manifest.v1+json' },
          body: manifest,
        });
        latencies.push(performance.now() - putStarted);
        if (response.status !== 201) throw new Error(`manifest push ${response.status}`);
        // Delete every other image, so the collector has real work while pushes go on.
        if (i % 2 === 0) {
          await fetch(`${registry.url}/v2/p/r/bench${i % 20}/manifests/${sha(manifest)}`, {
            method: 'DELETE',
            headers: auth,
          });
        }
      }
    };
    await Promise.all(Array.from({ length: concurrency }, worker));
    const seconds = (performance.now() - started) / 1000;
    looping = false;
    await loop;
    latencies.sort((a, b) => a - b);
    return {
      pushesPerSecond: images / seconds,
      p99ManifestPutMs: latencies[Math.floor(latencies.length * 0.99)] ?? 0,
    };
  } finally {
    await registry.close();
    await rm(root, { recursive: true, force: true });
  }
}
