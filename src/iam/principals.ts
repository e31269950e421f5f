import { RegistryError } from '../errors/registry-error.js';

export const allUsers = 'allUsers';
export const allAuthenticatedUsers = 'allAuthenticatedUsers';

/** Who is calling, once their credentials have been checked. */
export type Caller =
  | { readonly kind: 'anonymous' }
  | {
      readonly kind: 'user';
      readonly login: string;
      readonly admin: boolean;
      /** The `jti` of the OAuth access token the caller presented, if that is how it signed in. */
      readonly tokenId?: string;
    }
  | { readonly kind: 'serviceAccount'; readonly email: string; readonly project: string };

export const anonymous: Caller = { kind: 'anonymous' };

/** The member strings a caller matches in bindings: itself and the special principals that apply. */
export function membersOf(caller: Caller): string[] {
  switch (caller.kind) {
    case 'anonymous':
      return [allUsers];
    case 'user':
      return [`user:${caller.login}`, allAuthenticatedUsers, allUsers];
    case 'serviceAccount':
      return [`serviceAccount:${caller.email}`, allAuthenticatedUsers, allUsers];
  }
}

/** The principal string tokens carry in `sub` (`user:LOGIN`, `serviceAccount:EMAIL`); empty for anonymous. */
export function subjectOf(caller: Caller): string {
  switch (caller.kind) {
    case 'anonymous':
      return '';
    case 'user':
      return `user:${caller.login}`;
    case 'serviceAccount':
      return `serviceAccount:${caller.email}`;
  }
}

const memberShape = /^(user|serviceAccount):([^\s:]{1,254})$/;

/**
 * Logins and emails are one account whatever their case (`Bob@x` is `bob@x`): folded to lower case
 * wherever one comes in. Only A–Z fold, exactly as SQLite's `lower()` does in the migration that
 * folded the stored ones, so that both agree on every string.
 */
export function foldLogin(login: string): string {
  return login.replace(/[A-Z]+/g, (letters) => letters.toLowerCase());
}

/**
 * Checks a member string: `user:EMAIL`, `serviceAccount:EMAIL`, `allUsers` or `allAuthenticatedUsers`;
 * returns it with the email folded, as bindings store it.
 */
export function parseMember(member: string): string {
  if (member === allUsers || member === allAuthenticatedUsers) return member;
  const match = memberShape.exec(member);
  if (match) return `${match[1]}:${foldLogin(match[2] as string)}`;
  throw new RegistryError(
    'INVALID_ARGUMENT',
    `invalid member "${member.slice(0, 100)}": use user:EMAIL, serviceAccount:EMAIL, allUsers or allAuthenticatedUsers`,
  );
}

export function isSpecialPrincipal(member: string): boolean {
  return member === allUsers || member === allAuthenticatedUsers;
}
