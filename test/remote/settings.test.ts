import { randomBytes } from 'node:crypto';
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { formatDuration, parseDuration } from '../../src/lib/durations.js';
import { SecretBox } from '../../src/lib/secret-box.js';
import { normalizePrefix, normalizeUpstreamUrl, upstreamName } from '../../src/remote/remote-names.js';
import { parseChallenge } from '../../src/remote/upstream-client.js';
import { tempDir } from '../support/temp.js';

describe('the name an image has upstream', () => {
  it.each([
    ['library/', 'nginx', 'library/nginx'],
    ['', 'bitnami/redis', 'bitnami/redis'],
    ['library/', 'team/app', 'library/team/app'],
  ])('prefix %j and %s make %s', (prefix, image, expected) => {
    expect(upstreamName({ prefix }, image)).toBe(expected);
  });

  it.each([
    ['library', 'library/'],
    ['library/', 'library/'],
    ['/org/team/', 'org/team/'],
    ['', ''],
  ])('stores the prefix %j as %j', (text, expected) => {
    expect(normalizePrefix(text)).toBe(expected);
  });

  it('refuses a prefix that cannot start an image name', () => {
    expect(() => normalizePrefix('Library/')).toThrow(/not the start of an image name/);
    expect(() => normalizePrefix('a//b')).toThrow(/not the start of an image name/);
  });
});

describe('upstream URLs', () => {
  it.each([
    ['https://registry-1.docker.io', 'https://registry-1.docker.io'],
    ['https://ghcr.io/', 'https://ghcr.io'],
    ['http://127.0.0.1:5000/v2/', 'http://127.0.0.1:5000'],
  ])('stores %s as its origin', (text, expected) => {
    expect(normalizeUpstreamUrl(text)).toBe(expected);
  });

  it.each([
    ['registry-1.docker.io', /is not a URL/],
    ['ftp://example.com', /must start with https:\/\/ or http:\/\//],
    ['https://u:p@example.com', /must not hold credentials/],
    ['https://example.com/some/path', /without a path/],
  ])('refuses %s', (text, message) => {
    expect(() => normalizeUpstreamUrl(text)).toThrow(message);
  });
});

describe('Bearer challenges', () => {
  it('reads realm, service and a scope with commas', () => {
    expect(
      parseChallenge(
        'Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/nginx:pull,push"',
      ),
    ).toEqual({
      scheme: 'bearer',
      params: {
        realm: 'https://auth.docker.io/token',
        service: 'registry.docker.io',
        scope: 'repository:library/nginx:pull,push',
      },
    });
    expect(parseChallenge('Basic realm="upstream"').scheme).toBe('basic');
  });
});

describe('remote TTLs', () => {
  it.each(['0s', '30s', '10m', '1h', '7d', '1500ms'])('write %s back as given', (text) => {
    expect(formatDuration(parseDuration(text) as number)).toBe(text);
  });
});

describe('the instance secret key', () => {
  it('is created once, readable only by its owner, and opens what it sealed', async () => {
    const dir = await tempDir();
    try {
      const path = join(dir.path, 'keys', 'instance-secret.key');
      const box = await SecretBox.loadOrCreate(path);
      expect((await stat(path)).mode & 0o777).toBe(0o600);
      const sealed = box.seal('upstream-password');
      expect(sealed).not.toContain('upstream-password');
      expect(box.seal('upstream-password')).not.toBe(sealed);
      expect((await SecretBox.loadOrCreate(path)).open(sealed)).toBe('upstream-password');
      expect(() => SecretBox.withKey(randomBytes(32)).open(sealed)).toThrow();
    } finally {
      await dir.remove();
    }
  });
});
