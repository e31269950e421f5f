import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashPassword } from '../../src/auth/passwords.js';
import { type ClockedRegistry, startConfiguredRegistry } from '../oauth/support/oauth-registry.js';

/** Password checks are rate limited per account and per client, also against a burst of parallel guesses. */
describe('password rate limits under parallel guesses', () => {
  let registry: ClockedRegistry;

  const basic = (login: string, password: string) =>
    `Basic ${Buffer.from(`${login}:${password}`).toString('base64')}`;

  async function addUser(login: string, password: string) {
    await registry.registry.context.metadata.users.create({
      login,
      passwordHash: await hashPassword(password),
      admin: false,
      disabled: false,
      createdAt: registry.clock.now(),
    });
  }

  /** Fires every guess at once, as an attacker would, and counts the answers by status. */
  async function burst(login: string, guesses: number): Promise<Record<number, number>> {
    const statuses = await Promise.all(
      Array.from({ length: guesses }, (_, index) =>
        fetch(`${registry.url}/v2/`, { headers: { authorization: basic(login, `guess-${index}`) } }).then(
          async (response) => {
            await response.arrayBuffer();
            return response.status;
          },
        ),
      ),
    );
    const counts: Record<number, number> = {};
    for (const status of statuses) counts[status] = (counts[status] ?? 0) + 1;
    return counts;
  }

  beforeAll(async () => {
    registry = await startConfiguredRegistry({
      auth: { failuresPerAccount: 3, failuresPerClient: 8, failureWindow: '10m' },
    });
  });

  afterAll(async () => {
    await registry?.close();
  });

  it('lets no more parallel guesses at one account through than the limit', async () => {
    await addUser('target@example.com', 'the-right-password');
    const counts = await burst('target@example.com', 12);
    expect(counts[401]).toBe(3);
    expect(counts[429]).toBe(9);
    const after = await fetch(`${registry.url}/v2/`, {
      headers: { authorization: basic('target@example.com', 'the-right-password') },
    });
    expect(after.status).toBe(429);
    expect(after.headers.get('retry-after')).toBe('600');
  });

  it('lets no more parallel guesses from one client through than the limit, and a success is not counted', async () => {
    registry.clock.advance(600_000);
    await addUser('someone@example.com', 'someone-password');
    for (let index = 0; index < 10; index++) {
      const signedIn = await fetch(`${registry.url}/v2/`, {
        headers: { authorization: basic('someone@example.com', 'someone-password') },
      });
      expect(signedIn.status).toBe(200);
    }
    const logins = Array.from({ length: 4 }, (_, index) => `user-${index}@example.com`);
    const counts = await Promise.all(logins.map((login) => burst(login, 3)));
    const total = (status: number) => counts.reduce((sum, count) => sum + (count[status] ?? 0), 0);
    expect(total(401)).toBe(8);
    expect(total(429)).toBe(4);
  });
});
