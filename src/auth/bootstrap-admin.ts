import type { UserStore } from '../db/identity.js';
import type { Clock } from '../lib/clock.js';
import { tokensRevokedAt } from './credential-service.js';
import { generatePassword, hashPassword, verifyPassword } from './passwords.js';

export const adminLogin = 'admin';

export type AdminBootstrap =
  | { readonly outcome: 'created'; readonly password: string; readonly generated: boolean }
  | { readonly outcome: 'updated' | 'unchanged' };

/**
 * Makes sure the instance administrator exists. Its password comes from MISTRIVE_ADMIN_PASSWORD
 * when set (and follows it when it changes, for automation); otherwise one is generated on the first
 * start and handed back to be shown once.
 */
export async function bootstrapAdmin(
  users: UserStore,
  configured: string | undefined,
  clock: Clock,
): Promise<AdminBootstrap> {
  const existing = await users.find(adminLogin);
  if (existing) {
    if (configured === undefined || (await verifyPassword(configured, existing.passwordHash))) {
      return { outcome: 'unchanged' };
    }
    await users.setPasswordHash(adminLogin, await hashPassword(configured));
    // A reset like any other: nothing issued under the old password survives it.
    await users.invalidateTokens(adminLogin, tokensRevokedAt(clock.now()));
    return { outcome: 'updated' };
  }
  const password = configured ?? generatePassword();
  const created = await users.create({
    login: adminLogin,
    passwordHash: await hashPassword(password),
    admin: true,
    disabled: false,
    createdAt: clock.now(),
  });
  // Another instance created it at the same moment: its password stands.
  if (!created) return { outcome: 'unchanged' };
  return { outcome: 'created', password, generated: configured === undefined };
}

/** Gives the administrator a new password, creating the account if it is missing. */
export async function setAdminPassword(users: UserStore, password: string, clock: Clock): Promise<void> {
  const passwordHash = await hashPassword(password);
  if (await users.setPasswordHash(adminLogin, passwordHash)) {
    // A reset like any other: nothing issued under the old password survives it.
    await users.invalidateTokens(adminLogin, tokensRevokedAt(clock.now()));
    return;
  }
  await users.create({
    login: adminLogin,
    passwordHash,
    admin: true,
    disabled: false,
    createdAt: clock.now(),
  });
}
