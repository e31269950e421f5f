import { type DockerLoginResult, dockerLogin } from '../../src/cli/auth/docker.js';
import { commonFlags, MistriveCommand } from '../../src/cli/base-command.js';
import { renderMessage } from '../../src/cli/render.js';

export default class AuthDockerLogin extends MistriveCommand {
  static override summary = 'Log Docker in to the registry with a short-lived access token.';
  static override description =
    'Runs `docker login --username oauth2accesstoken --password-stdin HOST` with a newly issued access token (not the cached one) and says when it expires (an hour after issue by default): `auth configure-docker` sets up the credential helper instead, which renews it on every push and pull.';

  static override examples = [
    '<%= config.bin %> auth docker-login',
    '<%= config.bin %> auth docker-login --registry localhost:5000',
  ];

  static override flags = { registry: commonFlags.registry };

  async run(): Promise<DockerLoginResult> {
    const { flags } = await this.parse(AuthDockerLogin);
    const result = await dockerLogin(this.context, this.context.registry(flags.registry));
    this.print(
      renderMessage(
        `Docker is logged in to ${result.host} as ${result.account} with a new token that expires at ${result.expiresAt}.`,
        this.context.io.target,
        'success',
      ),
    );
    return result;
  }
}
