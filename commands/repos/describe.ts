import { Args } from '@oclif/core';
import { commonFlags, MistriveCommand } from '../../src/cli/base-command.js';
import { describeRepository, repositoryTarget } from '../../src/cli/resources/repositories.js';
import { repositoryDetails } from '../../src/cli/views.js';
import type { Repository } from '../../src/client/management-api.js';

export default class ReposDescribe extends MistriveCommand {
  static override summary = 'Show a repository and its settings.';
  static override examples = [
    '<%= config.bin %> repos describe backend --project my-project',
    '<%= config.bin %> repos describe my-project/backend --json',
  ];

  static override args = {
    id: Args.string({ description: 'repository ID, or PROJECT/REPOSITORY', required: true }),
  };
  static override flags = { project: commonFlags.project, registry: commonFlags.registry };

  async run(): Promise<Repository> {
    const { args, flags } = await this.parse(ReposDescribe);
    const result = await describeRepository(
      this.context,
      repositoryTarget(this.context, args.id, flags.project, flags.registry),
    );
    this.print(repositoryDetails(result, this.context.io.target));
    return result;
  }
}
