import { Args, Flags } from '@oclif/core';
import {
  type InstalledCaCertificate,
  installCaCertificate,
  readCaCertificate,
} from '../../src/cli/auth/ca-certificates.js';
import { type ConfigureDockerResult, configureDocker, dockerHosts } from '../../src/cli/auth/docker.js';
import { commonFlags, MistriveCommand } from '../../src/cli/base-command.js';
import { renderMessage } from '../../src/cli/render.js';

export default class AuthConfigureDocker extends MistriveCommand {
  static override summary = 'Let Docker, podman, skopeo and buildah get credentials from mistrive.';
  static override description =
    `Adds "credHelpers": {"HOST": "mistrive"} to the Docker config ($DOCKER_CONFIG/config.json or ~/.docker/config.json), keeping everything else in it, so that those tools ask docker-credential-mistrive for a short-lived token on every push and pull. Running it again changes nothing; before a change the previous file is kept as config.json.bak.

With --ca-cert, also installs the registry's CA certificate for each host: for mistrive and its credential helper, for podman, skopeo and buildah (~/.config/containers/certs.d/HOST/ca.crt), and for Docker (/etc/docker/certs.d/HOST/ca.crt, which needs root: otherwise the command to run with sudo is printed).`;

  static override examples = [
    '<%= config.bin %> auth configure-docker',
    '<%= config.bin %> auth configure-docker localhost:5000 registry.example.com',
    '<%= config.bin %> auth configure-docker registry.example.com:5000 --ca-cert ca.crt',
  ];

  static override args = {
    hosts: Args.string({
      description: 'registry hosts (HOST[:PORT]) [default: the configured registry]',
      multiple: true,
    }),
  };

  static override flags = {
    registry: commonFlags.registry,
    'ca-cert': Flags.string({
      description:
        "the registry's CA certificate (PEM), to install where Docker, podman, skopeo, buildah and mistrive read it",
    }),
  };

  async run(): Promise<ConfigureDockerResult & { caCertificates?: InstalledCaCertificate[] }> {
    const { args, flags } = await this.parse(AuthConfigureDocker);
    const hosts = dockerHosts(this.context, args.hosts ?? [], flags.registry);
    const ca = flags['ca-cert'] ? await readCaCertificate(flags['ca-cert']) : undefined;
    const caCertificates = ca ? await installCaCertificate(this.context, hosts, ca) : undefined;
    const result = await configureDocker(this.context, hosts);
    const target = this.context.io.target;
    for (const installed of caCertificates ?? []) {
      this.print(
        renderMessage(
          `The CA certificate for ${installed.host} is installed: ${installed.written.join(', ')}.`,
          target,
          'success',
        ),
      );
      if (installed.dockerCommand) {
        this.context.notice(
          `Docker reads CA certificates from /etc/docker/certs.d, which only root may write: run \`${installed.dockerCommand}\``,
        );
      }
    }
    if (result.added.length > 0) {
      this.print(
        renderMessage(
          `Docker now asks mistrive for credentials for ${result.added.join(', ')} (${result.path}).`,
          target,
          'success',
        ),
      );
      if (result.backup) this.print(renderMessage(`The previous file is kept as ${result.backup}.`, target));
    }
    if (result.unchanged.length > 0) {
      this.print(renderMessage(`Already set up: ${result.unchanged.join(', ')}.`, target));
    }
    for (const host of result.withoutAccount) {
      this.context.notice(
        `Warning: no account can answer for ${host} yet, so Docker gets no credentials for it: sign in with \`mistrive auth login --registry ${host}\` (or set MISTRIVE_KEY).`,
      );
    }
    return caCertificates ? { ...result, caCertificates } : result;
  }
}
