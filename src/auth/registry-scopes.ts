/** Docker token-auth scopes: `repository:NAME:pull,push`, `registry:catalog:*`. */
export interface Scope {
  readonly type: string;
  readonly name: string;
  readonly actions: readonly string[];
}

/** Parses the `scope` parameters of a token request; several may be given, each space-separated. */
export function parseScopes(values: readonly string[]): Scope[] {
  const scopes: Scope[] = [];
  for (const value of values) {
    for (const text of value.split(' ')) {
      const first = text.indexOf(':');
      const last = text.lastIndexOf(':');
      if (first <= 0 || last === first) continue;
      const type = text.slice(0, first).replace(/\(.*\)$/, '');
      const actions = text
        .slice(last + 1)
        .split(',')
        .filter((action) => action !== '');
      scopes.push({ type, name: text.slice(first + 1, last), actions });
    }
  }
  return scopes;
}

export function formatScope(scope: Scope): string {
  return `${scope.type}:${scope.name}:${scope.actions.join(',')}`;
}

/** The registry actions a route action needs, as the challenge's scope names them. */
export const scopeActions = {
  pull: ['pull'],
  push: ['pull', 'push'],
  delete: ['delete'],
} as const;
