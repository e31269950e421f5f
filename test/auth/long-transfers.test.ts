import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeClock } from '../support/fake-clock.js';
import { sha256, withDigest } from '../support/oci-client.js';
import { startTestRegistry, type TestRegistry, testAdminPassword } from '../support/registry.js';
import { openStreamingRequest, responseOf } from '../support/streaming-request.js';

/** Tokens are checked when a request starts: a long push outlives its token (DESIGN §5). */

let registry: TestRegistry;
const clock = new FakeClock();
const name = 'long/transfers/app';

async function pushToken(): Promise<string> {
  const credentials = Buffer.from(`admin:${testAdminPassword}`).toString('base64');
  const response = await fetch(`${registry.url}/auth/token?scope=repository:${name}:pull,push`, {
    headers: { authorization: `Basic ${credentials}` },
  });
  return ((await response.json()) as { token: string }).token;
}

beforeAll(async () => {
  registry = await startTestRegistry({}, { clock });
  await registry.registry.context.metadata.catalog.ensureRepository('long', 'transfers', clock.now());
});

afterAll(() => registry.close());

describe('long transfers', () => {
  it('completes a request authorized at its start even when its token expires mid-way', async () => {
    const token = await pushToken();
    const start = await fetch(`${registry.url}/v2/${name}/blobs/uploads/`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}` },
    });
    expect(start.status).toBe(202);
    const location = new URL(start.headers.get('location') ?? '', registry.url).toString();
    const first = randomBytes(256 * 1024);
    const second = randomBytes(256 * 1024);
    const patch = openStreamingRequest(location, 'PATCH', {
      Authorization: `Bearer ${token}`,
      'Content-Type': 'application/octet-stream',
      'Content-Length': first.length + second.length,
    });
    await patch.continued;
    await patch.write(first);
    // The registry token lives five minutes; an hour passes while the body is still arriving.
    clock.advance(60 * 60_000);
    await patch.write(second);
    patch.end();
    const response = responseOf(await patch.outcome);
    expect(response.status).toBe(202);
    expect(response.headers.range).toBe(`0-${first.length + second.length - 1}`);

    // The expired token no longer starts anything…
    const digest = sha256(Buffer.concat([first, second]));
    const stale = await fetch(withDigest(location, digest), {
      method: 'PUT',
      headers: { authorization: `Bearer ${token}` },
    });
    expect(stale.status).toBe(401);

    // …but the upload session it started is finished with a fresh token.
    const finished = await fetch(withDigest(location, digest), {
      method: 'PUT',
      headers: { authorization: `Bearer ${await pushToken()}` },
    });
    expect(finished.status).toBe(201);
    expect(finished.headers.get('docker-content-digest')).toBe(digest);
  });
});
