import type { CliContext } from '../cli/context.js';
import { getAccessToken } from '../cli/credentials/session.js';
import { CliError } from '../cli/errors.js';
import { dockerCredentials, type RegistryCredentials } from './docker-config.js';
import type { RemoteImage } from './image-reference.js';
import { RegistryClient } from './registry-client.js';

/**
 * A registry client signed in the way the user is: a Mistrive registry the CLI has an account for
 * (or `MISTRIVE_KEY` belongs to) with that account's access token, which the token endpoint accepts
 * as `oauth2accesstoken`; any other registry with the Docker config's credentials (credential
 * helpers, `auths`, `credsStore`); anonymously when neither has any.
 */
export function registryClientFor(context: CliContext, image: RemoteImage): RegistryClient {
  let resolved: Promise<RegistryCredentials | undefined> | undefined;
  const credentials = () => {
    resolved ??= credentialsFor(context, image);
    return resolved;
  };
  return new RegistryClient(image.registry, credentials);
}

async function credentialsFor(
  context: CliContext,
  image: RemoteImage,
): Promise<RegistryCredentials | undefined> {
  try {
    const token = await getAccessToken(context.session, image.registry);
    return { kind: 'basic', username: 'oauth2accesstoken', password: token.token };
  } catch (error) {
    if (!(error instanceof CliError) || error.code !== 'AUTH_REQUIRED') throw error;
  }
  return dockerCredentials(image.host, context.env);
}
