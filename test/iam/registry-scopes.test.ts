import { describe, expect, it } from 'vitest';
import { formatScope, parseScopes } from '../../src/auth/registry-scopes.js';

describe('Docker token scopes', () => {
  it('parses several scopes, in one parameter or many', () => {
    expect(
      parseScopes(['repository:p/r/app:pull,push registry:catalog:*', 'repository:p/r/other:pull']),
    ).toEqual([
      { type: 'repository', name: 'p/r/app', actions: ['pull', 'push'] },
      { type: 'registry', name: 'catalog', actions: ['*'] },
      { type: 'repository', name: 'p/r/other', actions: ['pull'] },
    ]);
  });

  it('drops a resource class and ignores malformed scopes', () => {
    expect(parseScopes(['repository(plugin):p/r/app:pull', 'nonsense', 'repository:'])).toEqual([
      { type: 'repository', name: 'p/r/app', actions: ['pull'] },
    ]);
  });

  it('formats a scope back as the challenge names it', () => {
    expect(formatScope({ type: 'repository', name: 'p/r/app', actions: ['pull', 'push'] })).toBe(
      'repository:p/r/app:pull,push',
    );
  });
});
