import { randomBytes } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ApiClient,
  authorization,
  basic,
  bearer,
  createProject,
  createRepository,
  createUser,
  type Json,
  pushImageAs,
} from '../support/api-client.js';
import { buildImage, tarGzLayer, writeOciLayout } from '../support/oci-layout.js';
import { type Sample, sampleValue, scrape } from '../support/prometheus.js';
import { type Daemon, startDaemon, testAdminPassword } from '../support/registry.js';
import { pullLayout, pushLayout } from '../support/skopeo.js';
import { tempDir } from '../support/temp.js';
import { waitFor } from '../support/wait.js';

/** The metrics of a real daemon, scraped from its separate metrics address and from its main port. */
describe('metrics', { timeout: 180_000 }, () => {
  let work: Awaited<ReturnType<typeof tempDir>>;
  let daemon: Daemon;
  let metricsUrl: string;
  let admin: ApiClient;

  beforeAll(async () => {
    work = await tempDir('mistrive-metrics-');
    const config = join(work.path, 'serve.yaml');
    await writeFile(config, 'auth:\n  failuresPerAccount: 2\n');
    daemon = await startDaemon(join(work.path, 'data'), [
      '--config',
      config,
      '--metrics-address',
      '127.0.0.1:0',
    ]);
    const address = /metrics on (http:\/\/[^\s,)]+)\/metrics/.exec(daemon.stdout())?.[1];
    if (!address) throw new Error(`no metrics address in the ready line: ${daemon.stdout()}`);
    metricsUrl = `${address}/metrics`;
    admin = new ApiClient(daemon.url, bearer(daemon.adminToken));
    await createProject(admin, 'shop');
    await createRepository(admin, 'shop', 'apps');
  });

  afterAll(async () => {
    await daemon?.stop();
    await work?.remove();
  });

  it('serves the text format on the metrics address without credentials, with process metrics', async () => {
    const samples = await scrape(metricsUrl);
    expect(sampleValue(samples, 'process_cpu_user_seconds_total')).toBeGreaterThan(0);
    expect(sampleValue(samples, 'nodejs_heap_size_used_bytes')).toBeGreaterThan(0);
    expect(samples.some((sample) => sample.name === 'mistrive_uploads_in_progress')).toBe(true);
    // The same address answers health checks, and nothing of the registry.
    expect((await fetch(`${metricsUrl.replace('/metrics', '/readyz')}`)).status).toBe(200);
    expect((await fetch(`${metricsUrl.replace('/metrics', '/v2/')}`)).status).toBe(404);
  });

  it('counts requests by family, method and status, their durations and bytes, after a skopeo push and pull', async () => {
    const before = await scrape(metricsUrl);
    const layer = randomBytes(256 * 1024);
    const image = buildImage([await tarGzLayer({ 'bin/app': layer })]);
    const layout = join(work.path, 'layout');
    await writeOciLayout(layout, 'v1', image);
    await pushLayout(daemon.url, layout, 'v1', 'shop/apps/web');
    await pullLayout(daemon.url, 'shop/apps/web', 'v1', join(work.path, 'copy'));
    const after = await scrape(metricsUrl);
    const moved = (name: string, labels: Record<string, string> = {}) =>
      sampleValue(after, name, labels) - sampleValue(before, name, labels);

    expect(
      moved('mistrive_http_requests_total', { family: 'v2-manifests', method: 'PUT', status: '201' }),
    ).toBe(1);
    expect(
      moved('mistrive_http_requests_total', { family: 'v2-manifests', method: 'GET', status: '200' }),
    ).toBeGreaterThanOrEqual(1);
    expect(
      moved('mistrive_http_requests_total', { family: 'v2-blobs', method: 'GET', status: '200' }),
    ).toBeGreaterThanOrEqual(2);
    expect(moved('mistrive_http_requests_total', { family: 'v2-uploads' })).toBeGreaterThanOrEqual(2);
    expect(
      moved('mistrive_http_requests_total', { family: 'token', method: 'GET', status: '200' }),
    ).toBeGreaterThanOrEqual(2);
    expect(
      moved('mistrive_http_request_duration_seconds_count', { family: 'v2-manifests', method: 'PUT' }),
    ).toBe(1);
    expect(moved('mistrive_http_request_duration_seconds_sum', { family: 'v2-blobs' })).toBeGreaterThan(0);
    // The compressed layer went up through the uploads and came back down as a blob.
    const layerBytes = image.layers[0]?.bytes.length ?? 0;
    expect(layerBytes).toBeGreaterThan(200 * 1024);
    expect(moved('mistrive_http_received_bytes_total', { family: 'v2-uploads' })).toBeGreaterThanOrEqual(
      layerBytes,
    );
    expect(moved('mistrive_http_sent_bytes_total', { family: 'v2-blobs' })).toBeGreaterThanOrEqual(
      layerBytes,
    );
    expect(sampleValue(after, 'mistrive_uploads_in_progress')).toBe(0);
  });

  it('counts sign-ins refused by the failure limit', async () => {
    const before = sampleValue(await scrape(metricsUrl), 'mistrive_rate_limit_refusals_total', {
      limit: 'sign-in-failures',
    });
    const statuses: number[] = [];
    for (let attempt = 0; attempt < 3; attempt++) {
      const response = await fetch(`${daemon.url}/auth/token?service=mistrive`, {
        headers: authorization(basic('nobody@example.com', 'wrong-password')),
      });
      statuses.push(response.status);
    }
    expect(statuses).toEqual([401, 401, 429]);
    const after = sampleValue(await scrape(metricsUrl), 'mistrive_rate_limit_refusals_total', {
      limit: 'sign-in-failures',
    });
    expect(after - before).toBe(1);
  });

  it('counts garbage collection runs', async () => {
    const run = await admin.ok('POST', '/api/v1/admin/gc', { dryRun: false }, 202);
    await waitFor('the collection to finish', async () => {
      const state = await admin.ok('GET', `/api/v1/admin/gc/${run.id}`, undefined, 200);
      return state.status === 'running' ? undefined : state;
    });
    const samples = await scrape(metricsUrl);
    expect(sampleValue(samples, 'mistrive_gc_runs_total', { outcome: 'succeeded' })).toBeGreaterThanOrEqual(
      1,
    );
    expect(samples.some((sample: Sample) => sample.name === 'mistrive_gc_reclaimed_bytes_total')).toBe(true);
  });

  it('on the main port, answers the administrator only: 401 with a challenge to anonymous, 403 to others', async () => {
    const anonymous = await fetch(`${daemon.url}/metrics`);
    expect(anonymous.status).toBe(401);
    expect(anonymous.headers.get('www-authenticate')).toMatch(/^Bearer realm="/);
    expect(((await anonymous.json()) as Json).errors[0].code).toBe('UNAUTHORIZED');

    await createUser(admin, 'dev@example.com', 'dev-password-1');
    const user = await fetch(`${daemon.url}/metrics`, {
      headers: authorization(basic('dev@example.com', 'dev-password-1')),
    });
    expect(user.status).toBe(403);
    expect(((await user.json()) as Json).errors[0]).toMatchObject({
      code: 'DENIED',
      message: 'access forbidden: only the instance administrator can read the metrics',
    });

    const viaToken = await scrape(`${daemon.url}/metrics`, authorization(bearer(daemon.adminToken)));
    expect(
      sampleValue(viaToken, 'mistrive_http_requests_total', { family: 'ops', status: '401' }),
    ).toBeGreaterThanOrEqual(1);
    await scrape(`${daemon.url}/metrics`, authorization(basic('admin', testAdminPassword)));
  });

  it('reports the scan queue by status', async () => {
    await pushImageAs(daemon.url, 'shop/apps/scanned', 'v1', basic('admin', testAdminPassword));
    await admin.ok('PATCH', '/api/v1/projects/shop/repositories/apps', { scanning: true }, 200);
    await pushImageAs(daemon.url, 'shop/apps/scanned', 'v2', basic('admin', testAdminPassword));
    const samples = await waitFor('a scan job in the metrics', async () => {
      const scraped = await scrape(metricsUrl);
      return sampleValue(scraped, 'mistrive_scan_jobs') > 0 ? scraped : undefined;
    });
    // No Trivy on PATH here: the job is queued, running, or ended as scanner_unavailable.
    const jobs = samples.filter((sample) => sample.name === 'mistrive_scan_jobs');
    expect(jobs.map((sample) => sample.labels.status)).toEqual(
      expect.arrayContaining([expect.stringMatching(/^(queued|scanning|scanner_unavailable|failed)$/)]),
    );
  });
});
