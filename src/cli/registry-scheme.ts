import { lookup } from 'node:dns/promises';
import { isLoopbackAddress } from '../lib/loopback.js';
import { CliError } from './errors.js';

/**
 * Why a registry given as a bare `HOST[:PORT]` was reached over https: only the loopback names
 * (localhost, 127.0.0.1, [::1]) mean plain http without a scheme. A name that merely resolves to a
 * loopback address (`vm:5000` with `vm` in /etc/hosts) still means https, since what a name
 * resolves to can change; when such a registry cannot be reached, the error says so and how to ask
 * for plain http.
 */

export { isLoopbackAddress };

/** The explanation for an https origin guessed from a bare host, given the addresses its name resolves to. */
export function explainHttpsGuess(origin: string, addresses: readonly string[]): string {
  const url = new URL(origin);
  const loopback = addresses.find(isLoopbackAddress);
  const because = loopback
    ? `${url.hostname} resolves to ${loopback}, a loopback address, but only the names localhost, 127.0.0.1 and [::1] mean plain http without a scheme`
    : 'only the names localhost, 127.0.0.1 and [::1] mean plain http without a scheme';
  return `${url.host} was taken as ${url.origin}: ${because}`;
}

/** An unreachable-registry error for an https origin guessed from a bare host, with the reason and the fix. */
export async function withHttpsGuessExplained(failure: CliError, origin: string): Promise<CliError> {
  const url = new URL(origin);
  const addresses = await lookup(url.hostname, { all: true }).then(
    (found) => found.map((entry) => entry.address),
    () => [],
  );
  return new CliError(failure.code, `${failure.message}; ${explainHttpsGuess(origin, addresses)}`, {
    hint: `if the registry serves plain HTTP, name it with its scheme: --registry http://${url.host}`,
    cause: failure,
  });
}
