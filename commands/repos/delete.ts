import { Args } from '@oclif/core';
import { commonFlags, MistriveCommand } from '../../src/cli/base-command.js';
import { renderMessage } from '../../src/cli/render.js';
import {
  deleteRepository,
  type RepositoryDeleted,
  repositoryTarget,
} from '../../src/cli/resources/repositories.js';

export default class ReposDelete extends MistriveCommand {
  static override summary = 'Delete a repository with its images.';
  static override description =
    'Needs the owner role on the repository. Asks first on a terminal, unless --yes.';
  static override examples = [
    '<%= config.bin %> repos delete backend --project my-project',
    '<%= config.bin %> repos delete my-project/backend --yes',
  ];
  static override args = {
    id: Args.string({ description: 'repository ID, or PROJECT/REPOSITORY', required: true }),
  };
  static override flags = {
    project: commonFlags.project,
    yes: commonFlags.yes,
    registry: commonFlags.registry,
  };

  async run(): Promise<RepositoryDeleted> {
    const { args, flags } = await this.parse(ReposDelete);
    const target = repositoryTarget(this.context, args.id, flags.project, flags.registry);
    await this.confirmDeletion(`repository ${target.project}/${target.repository} and its images`, flags.yes);
    const result = await deleteRepository(this.context, target);
    this.print(
      renderMessage(
        `Deleted repository ${result.project}/${result.repository}.`,
        this.context.io.target,
        'success',
      ),
    );
    return result;
  }
}
