import { describe, expect, it } from 'vitest';
import { allows, type BindingChain, effectiveRole } from '../../src/iam/policy.js';
import type { Caller } from '../../src/iam/principals.js';

const alice: Caller = { kind: 'user', login: 'alice@example.com', admin: false };
const robot: Caller = { kind: 'serviceAccount', email: 'ci@proj.iam.mistrive', project: 'proj' };
const admin: Caller = { kind: 'user', login: 'admin', admin: true };
const nobody: Caller = { kind: 'anonymous' };

const empty: BindingChain = { organization: [], project: [], repository: [] };

describe('effectiveRole', () => {
  it.each([
    [
      'a repository binding',
      { ...empty, repository: [{ member: 'user:alice@example.com', role: 'editor' }] },
      'editor',
    ],
    [
      'a project binding',
      { ...empty, project: [{ member: 'user:alice@example.com', role: 'artifactstore.viewer' }] },
      'viewer',
    ],
    [
      'an organization binding',
      { ...empty, organization: [{ member: 'user:alice@example.com', role: 'artifactstore.owner' }] },
      'owner',
    ],
    [
      'the strongest of several levels',
      {
        organization: [{ member: 'user:alice@example.com', role: 'artifactstore.viewer' }],
        project: [{ member: 'user:alice@example.com', role: 'artifactstore.owner' }],
        repository: [{ member: 'user:alice@example.com', role: 'editor' }],
      },
      'owner',
    ],
    ['allUsers', { ...empty, repository: [{ member: 'allUsers', role: 'viewer' }] }, 'viewer'],
    [
      'allAuthenticatedUsers',
      { ...empty, project: [{ member: 'allAuthenticatedUsers', role: 'artifactstore.viewer' }] },
      'viewer',
    ],
    [
      'someone else’s binding',
      { ...empty, repository: [{ member: 'user:bob@example.com', role: 'owner' }] },
      undefined,
    ],
    ['no binding', empty, undefined],
  ] as const)('a signed-in user gets its role from %s', (_, chain, expected) => {
    expect(effectiveRole(alice, chain)).toBe(expected);
  });

  it('gives the anonymous caller only what allUsers holds', () => {
    const chain: BindingChain = {
      ...empty,
      project: [{ member: 'allAuthenticatedUsers', role: 'artifactstore.viewer' }],
    };
    expect(effectiveRole(nobody, chain)).toBeUndefined();
    expect(effectiveRole(nobody, { ...empty, repository: [{ member: 'allUsers', role: 'viewer' }] })).toBe(
      'viewer',
    );
  });

  it('matches service accounts by their own member string', () => {
    const chain: BindingChain = {
      ...empty,
      repository: [{ member: 'serviceAccount:ci@proj.iam.mistrive', role: 'editor' }],
    };
    expect(effectiveRole(robot, chain)).toBe('editor');
    expect(effectiveRole(alice, chain)).toBeUndefined();
  });

  it('makes the instance administrator owner everywhere', () => {
    expect(effectiveRole(admin, empty)).toBe('owner');
  });
});

describe('allows', () => {
  it.each([
    ['viewer', 'read', true],
    ['viewer', 'write', false],
    ['editor', 'write', true],
    ['editor', 'delete', false],
    ['owner', 'delete', true],
    ['owner', 'administer', true],
    [undefined, 'read', false],
  ] as const)('%s may %s: %s', (role, permission, expected) => {
    expect(allows(role, permission)).toBe(expected);
  });
});
