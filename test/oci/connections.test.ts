import { request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clientOf } from '../../src/server/connection-guards.js';
import { adminFetch } from '../support/admin-session.js';
import { pushBlob, randomBlob, sha256, startUpload, withDigest } from '../support/oci-client.js';
import { openRawConnection, parseReply, type RawConnection, replyError } from '../support/raw-connection.js';
import { startTestRegistry, type TestRegistry } from '../support/registry.js';
import { openStreamingRequest, responseOf } from '../support/streaming-request.js';
import { waitFor } from '../support/wait.js';

const name = 'connections/slow/app';
const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A GET from a chosen local address, over a fresh connection: a second client on loopback. */
function getFrom(url: string, localAddress: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(`${url}/v2/`, { localAddress, agent: false }, (res) => {
      res.resume();
      res.once('end', () => resolve(res.statusCode ?? 0));
    });
    req.once('error', reject);
    req.end();
  });
}

describe('slow and stalled clients', () => {
  let registry: TestRegistry;

  beforeAll(async () => {
    registry = await startTestRegistry({
      autoCreateRepositories: true,
      // Short enough to watch them act; the client shares this process, so not so short that a busy
      // event loop looks like a slow client.
      http: { headersTimeout: '1s', keepAliveTimeout: '1s', bodyTimeout: '500ms' },
    });
  });
  afterAll(() => registry.close());

  it('closes connections whose headers never finish, with 408 and the error body', async () => {
    const connections: RawConnection[] = [];
    for (let n = 0; n < 8; n++) {
      const connection = await openRawConnection(registry.url);
      connection.write('GET /v2/ HTTP/1.1\r\nHost: registry\r\nX-Slow: ');
      connections.push(connection);
    }
    const silent = await openRawConnection(registry.url);
    for (const text of await Promise.all(connections.map((connection) => connection.closed))) {
      const reply = parseReply(text);
      expect(reply.status).toBe(408);
      expect(replyError(reply)?.code).toBe('UNKNOWN');
      expect(replyError(reply)?.message).toMatch(/did not arrive in time/);
    }
    // A connection that never sends a byte is closed as well.
    await silent.closed;
  });

  it('closes a keep-alive connection left idle after its response', async () => {
    const connection = await openRawConnection(registry.url);
    connection.write('GET /v2/ HTTP/1.1\r\nHost: registry\r\n\r\n');
    const text = await connection.closed;
    expect(parseReply(text).status).toBe(401);
    expect(parseReply(text).headers.connection).toBe('keep-alive');
  });

  it('cuts a stalled body on the unauthenticated token endpoints', async () => {
    for (const path of ['/oauth/token', '/auth/token']) {
      const connection = await openRawConnection(registry.url);
      connection.write(
        `POST ${path} HTTP/1.1\r\nHost: registry\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 1000\r\n\r\ngrant_type=password`,
      );
      // Cut without an answer: the client that stalled gets nothing more.
      expect(await connection.closed).toBe('');
    }
  });

  it('cuts a stalled upload body, keeping what arrived, and lets a slow body that keeps moving finish', async () => {
    const stalledLocation = await startUpload(registry.url, name);
    const stalled = openStreamingRequest(stalledLocation, 'PATCH', { 'Content-Length': 1024 * 1024 });
    await stalled.continued;
    await stalled.write(randomBlob(64 * 1024));
    expect('error' in (await stalled.outcome)).toBe(true);
    const status = await adminFetch(stalledLocation);
    expect(status.headers.get('range')).toBe(`0-${64 * 1024 - 1}`);

    // A piece every 100 ms for longer than the body timeout: slow, but never silent for 500 ms.
    const pieces = Array.from({ length: 12 }, () => randomBlob(4096));
    const bytes = Buffer.concat(pieces);
    const location = await startUpload(registry.url, name);
    const slow = openStreamingRequest(withDigest(location, sha256(bytes)), 'PUT', {
      'Content-Length': bytes.length,
    });
    await slow.continued;
    for (const piece of pieces) {
      await slow.write(piece);
      await pause(100);
    }
    slow.end();
    const response = responseOf(await slow.outcome);
    expect(response.status, response.body).toBe(201);
    expect(response.headers['docker-content-digest']).toBe(sha256(bytes));
  });
  it('cuts a response its client stops reading', async () => {
    // Larger than what the kernel buffers on both ends of a loopback connection.
    const bytes = randomBlob(32 * 1024 * 1024);
    const digest = await pushBlob(registry.url, name, bytes);
    const connection = await openRawConnection(registry.url);
    connection.write(
      `GET /v2/${name}/blobs/${digest} HTTP/1.1\r\nHost: registry\r\nAuthorization: Bearer ${registry.adminToken}\r\n\r\n`,
    );
    connection.socket.pause();
    // Well past the 500 ms body timeout; then read what the server sent before it cut the connection.
    await pause(2500);
    connection.socket.resume();
    await connection.closed;
    expect(connection.received().length).toBeLessThan(bytes.length);
  });
});

describe('connections per client address', () => {
  let registry: TestRegistry;

  beforeAll(async () => {
    registry = await startTestRegistry({ http: { maxConnectionsPerClient: 4 } });
  });
  afterAll(() => registry.close());

  it('refuses connections above the cap with 429 at once, while another address is served', async () => {
    const held = await Promise.all(
      Array.from({ length: 4 }, () => openRawConnection(registry.url, '127.0.0.1')),
    );
    const refused = await openRawConnection(registry.url, '127.0.0.1');
    const reply = parseReply(await refused.closed);
    expect(reply.status).toBe(429);
    expect(reply.headers['retry-after']).toBe('1');
    expect(replyError(reply)).toMatchObject({
      code: 'TOOMANYREQUESTS',
      message: expect.stringMatching(/at most 4/),
    });

    // Another client address is not affected, and the held connections still work.
    expect(await getFrom(registry.url, '127.0.0.2')).toBe(401);
    const [first, ...others] = held;
    first?.write('GET /v2/ HTTP/1.1\r\nHost: registry\r\nConnection: close\r\n\r\n');
    expect(parseReply((await first?.closed) ?? '').status).toBe(401);

    // The closed one makes room for a new connection from the first address (once the server has
    // seen it close too).
    await waitFor('room for a new connection', async () =>
      (await getFrom(registry.url, '127.0.0.1')) === 401 ? true : undefined,
    );
    for (const connection of others) connection.socket.destroy();
  });
});

describe('requests refused before any route sees them', () => {
  let registry: TestRegistry;

  beforeAll(async () => {
    registry = await startTestRegistry();
  });
  afterAll(() => registry.close());

  async function refusal(request: string) {
    const connection = await openRawConnection(registry.url);
    connection.write(request);
    const reply = parseReply(await connection.closed);
    expect(reply.headers['content-type']).toBe('application/json');
    expect(reply.headers['docker-distribution-api-version']).toBe('registry/2.0');
    return { status: reply.status, error: replyError(reply) };
  }

  it('answers an HTTP/1.1 request without Host with 400 and the error body', async () => {
    expect(await refusal('GET /v2/ HTTP/1.1\r\n\r\n')).toEqual({
      status: 400,
      error: { code: 'UNSUPPORTED', message: expect.stringMatching(/no Host header/) },
    });
  });

  it('answers CONNECT with 405 and the error body', async () => {
    expect(await refusal('CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n')).toEqual({
      status: 405,
      error: {
        code: 'UNSUPPORTED',
        message: expect.stringMatching(/CONNECT example.com:443 is not supported/),
      },
    });
  });

  it('answers an Expect other than 100-continue with 417 and the error body', async () => {
    expect(
      await refusal(
        'PUT /v2/a/b/c/manifests/v1 HTTP/1.1\r\nHost: registry\r\nExpect: 200-ok\r\nContent-Length: 2\r\n\r\n{}',
      ),
    ).toEqual({
      status: 417,
      error: { code: 'UNSUPPORTED', message: 'Expect: 200-ok is not supported; only 100-continue is' },
    });
  });
});

describe('the client a connection counts against', () => {
  it.each([
    ['127.0.0.1', '127.0.0.1'],
    ['::ffff:10.0.0.7', '10.0.0.7'],
    ['2001:db8:1:2:3:4:5:6', '2001:db8:1:2::/64'],
    ['2001:db8:1:2:ffff::9', '2001:db8:1:2::/64'],
    ['2001:db8::1', '2001:db8:0:0::/64'],
    ['fe80::1%eth0', 'fe80:0:0:0::/64'],
  ])('%s counts as %s', (address, client) => {
    expect(clientOf(address)).toBe(client);
  });
});
