import type { IncomingMessage } from 'node:http';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { loadServeConfig } from '../../src/config/config.js';
import { TrustedProxies } from '../../src/server/request-identity.js';
import { adminFetch } from '../support/admin-session.js';
import { startTestRegistry, type TestRegistry } from '../support/registry.js';
import { waitFor } from '../support/wait.js';

/** The one line per request names the principal (an IAM member, or anonymous) and the client address. */

interface RequestLine {
  msg: string;
  method: string;
  path: string;
  status: number;
  client: string;
  principal: string;
}

function capturingLogger() {
  const lines: RequestLine[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString().split('\n').filter(Boolean)) lines.push(JSON.parse(line));
      done();
    },
  });
  return { logger: pino({ level: 'info', base: undefined }, sink), lines };
}

async function requestLine(lines: RequestLine[], path: string): Promise<RequestLine> {
  return waitFor(`the log line of ${path}`, () =>
    lines.find((line) => line.msg === 'request' && line.path === path),
  );
}

describe('request logs', () => {
  let registry: TestRegistry | undefined;
  afterEach(async () => {
    await registry?.close();
    registry = undefined;
  });

  it('name the principal and the client address, and believe X-Forwarded-For from nobody by default', async () => {
    const { logger, lines } = capturingLogger();
    registry = await startTestRegistry({}, { logger });
    await adminFetch(`${registry.url}/v2/`, { headers: { 'X-Forwarded-For': '203.0.113.9' } });
    await fetch(`${registry.url}/v2/_catalog?anonymous`);
    await adminFetch(`${registry.url}/api/v1/projects`);
    const v2 = await requestLine(lines, '/v2/');
    expect(v2).toMatchObject({ status: 200, principal: 'user:admin', client: '127.0.0.1' });
    expect(await requestLine(lines, '/v2/_catalog')).toMatchObject({
      principal: 'anonymous',
      client: '127.0.0.1',
    });
    expect(await requestLine(lines, '/api/v1/projects')).toMatchObject({ principal: 'user:admin' });
    expect(JSON.stringify(lines)).not.toContain(registry.adminToken);
  });

  it('take the client from X-Forwarded-For when the peer is a configured trusted proxy', async () => {
    const { logger, lines } = capturingLogger();
    registry = await startTestRegistry({ trustedProxies: ['127.0.0.0/8'] }, { logger });
    await adminFetch(`${registry.url}/v2/`, { headers: { 'X-Forwarded-For': '198.51.100.1, 203.0.113.9' } });
    expect(await requestLine(lines, '/v2/')).toMatchObject({
      principal: 'user:admin',
      client: '203.0.113.9',
    });
  });
});

describe('trusted proxies', () => {
  const request = (peer: string, forwarded?: string) =>
    ({
      socket: { remoteAddress: peer },
      headers: forwarded ? { 'x-forwarded-for': forwarded } : {},
    }) as unknown as IncomingMessage;

  it.each([
    ['no proxies configured', [], '10.0.0.2', '203.0.113.9', '10.0.0.2'],
    ['a peer that is not a trusted proxy', ['10.0.0.1'], '10.0.0.2', '203.0.113.9', '10.0.0.2'],
    ['a trusted peer', ['10.0.0.1'], '10.0.0.1', '203.0.113.9', '203.0.113.9'],
    ['a chain of trusted proxies', ['10.0.0.0/8'], '10.0.0.1', '203.0.113.9, 10.0.0.7', '203.0.113.9'],
    [
      'a forged entry left of the real client',
      ['10.0.0.1'],
      '10.0.0.1',
      '1.2.3.4, 203.0.113.9',
      '203.0.113.9',
    ],
    ['a trusted peer with no header', ['10.0.0.1'], '10.0.0.1', undefined, '10.0.0.1'],
    ['an IPv4-mapped peer', ['10.0.0.1'], '::ffff:10.0.0.1', '203.0.113.9', '203.0.113.9'],
    ['garbage in the header', ['10.0.0.1'], '10.0.0.1', 'not-an-address', '10.0.0.1'],
  ])('with %s', (_, proxies, peer, forwarded, client) => {
    expect(new TrustedProxies(proxies).clientOf(request(peer, forwarded))).toBe(client);
  });

  it('refuses a trustedProxies entry that is neither an address nor a range, naming it', () => {
    for (const entry of ['proxy.example.com', '10.0.0.0/33', '10.0.0.1/8/1', '']) {
      expect(() => loadServeConfig(undefined, { trustedProxies: [entry] }, {})).toThrow(
        /trustedProxies\.0: must be an IP address or a CIDR range/,
      );
    }
    expect(
      loadServeConfig(undefined, { trustedProxies: ['10.0.0.0/8', '::1', 'fd00::/8'] }, {}).trustedProxies,
    ).toHaveLength(3);
  });
});
