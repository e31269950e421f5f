import { RegistryError } from '../errors/registry-error.js';
import { type Route, wrapHandlers } from '../server/router.js';
import { resolveImageName } from './names.js';

/**
 * Puts every distribution API request in terms of full names before anything else reads it: the
 * path's name (and a mount's `from`) become `PROJECT/REPOSITORY/IMAGE`, so the guard, the services
 * and the stores know one name per image (see `resolveImageName`).
 *
 * A name that is refused is NAME_INVALID with a message, but a HEAD has no body to carry it, and
 * clients start a push or pull with one: a HEAD is answered 404 instead, and the POST or GET that
 * follows carries the message the client shows.
 */
export function resolveRegistryNames(routes: readonly Route[], takeShortNames: boolean): Route[] {
  return wrapHandlers(routes, (handler, _operation, method) => async (context) => {
    const { params, query } = context;
    if (params.name === undefined) return handler(context);
    let name: string;
    try {
      name = resolveImageName(params.name, takeShortNames).full;
    } catch (error) {
      if (method === 'HEAD' && error instanceof RegistryError && error.code === 'NAME_INVALID') {
        throw new RegistryError('NAME_UNKNOWN', error.message);
      }
      throw error;
    }
    const from = query.get('from');
    if (from !== null) query.set('from', tryResolve(from, takeShortNames));
    return handler({ ...context, params: { ...params, name } });
  });
}

/** A mount source that names nothing valid stays as it is: the mount falls back to an upload. */
function tryResolve(name: string, takeShortNames: boolean): string {
  try {
    return resolveImageName(name, takeShortNames).full;
  } catch {
    return name;
  }
}
