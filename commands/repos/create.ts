import { Args, Flags } from '@oclif/core';
import { commonFlags, MistriveCommand } from '../../src/cli/base-command.js';
import { readAllStdin } from '../../src/cli/io.js';
import { remoteFlags } from '../../src/cli/remote-flags.js';
import { renderMessage } from '../../src/cli/render.js';
import { createRepository, newRemote } from '../../src/cli/resources/repositories.js';
import type { Repository } from '../../src/client/management-api.js';

export default class ReposCreate extends MistriveCommand {
  static override summary = 'Create a repository in a project.';
  static override description =
    'Images are pushed to HOST/PROJECT/REPOSITORY/IMAGE. Without an ID, one is generated (from --display-name when given). With --remote-url, the repository is a remote repository: a pull-through cache of that upstream registry, which refuses pushes. Needs Artifact Store Owner on the project.';

  static override examples = [
    '<%= config.bin %> repos create backend --project my-project',
    '<%= config.bin %> repos create releases --project my-project --scanning --immutable-tags',
    '<%= config.bin %> repos create --project my-project --display-name "Build cache"',
    '<%= config.bin %> repos create dockerhub --project my-project --remote-url https://registry-1.docker.io --remote-prefix library/',
    'printf %s "$TOKEN" | <%= config.bin %> repos create ghcr --project my-project --remote-url https://ghcr.io --remote-username me --remote-password-stdin --remote-ttl 1h',
  ];

  static override args = { id: Args.string({ description: 'repository ID [default: generated]' }) };
  static override flags = {
    project: commonFlags.project,
    scanning: Flags.boolean({ description: 'scan every pushed image for vulnerabilities' }),
    'immutable-tags': Flags.boolean({ description: 'refuse to move or delete a tag once it exists' }),
    'display-name': Flags.string({ description: 'a name for people' }),
    description: Flags.string({ description: 'what the repository holds' }),
    ...remoteFlags,
    registry: commonFlags.registry,
  };

  async run(): Promise<Repository> {
    const { args, flags } = await this.parse(ReposCreate);
    const result = await createRepository(this.context, {
      project: this.context.project(flags.project),
      id: args.id,
      displayName: flags['display-name'],
      description: flags.description,
      scanning: flags.scanning,
      immutableTags: flags['immutable-tags'],
      remote: await newRemote(flags, () => readAllStdin(this.context.io)),
      registry: this.context.registry(flags.registry),
    });
    const what = result.remote
      ? `remote repository ${result.name}, a pull-through cache of ${result.remote.url}`
      : `repository ${result.name}`;
    this.print(renderMessage(`Created ${what}.`, this.context.io.target, 'success'));
    return result;
  }
}
