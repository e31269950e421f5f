import { homedir } from 'node:os';
import { join } from 'node:path';

/**
 * Where the CLI keeps its files: `$MISTRIVE_CONFIG_DIR`, else `$XDG_CONFIG_HOME/mistrive`, else
 * `~/.config/mistrive`. Only Node built-ins here: the credential helper imports it on its hot path.
 */
export function configDirectory(env: NodeJS.ProcessEnv): string {
  if (env.MISTRIVE_CONFIG_DIR) return env.MISTRIVE_CONFIG_DIR;
  const home = env.HOME || homedir();
  return join(env.XDG_CONFIG_HOME || join(home, '.config'), 'mistrive');
}

/** The Docker client configuration file: `$DOCKER_CONFIG/config.json`, else `~/.docker/config.json`. */
export function dockerConfigPath(env: NodeJS.ProcessEnv): string {
  const home = env.HOME || homedir();
  return join(env.DOCKER_CONFIG || join(home, '.docker'), 'config.json');
}
