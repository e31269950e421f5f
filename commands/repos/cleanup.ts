import { Args, Flags } from '@oclif/core';
import { commonFlags, MistriveCommand } from '../../src/cli/base-command.js';
import { cleanupRepository, repositoryTarget } from '../../src/cli/resources/repositories.js';
import { cleanupRunTable } from '../../src/cli/views.js';
import type { CleanupRun } from '../../src/client/management-api.js';

export default class ReposCleanup extends MistriveCommand {
  static override summary = "Apply a repository's cleanup policies now, and list what goes.";
  static override description =
    'Evaluates the policies at once instead of waiting for the schedule. With --dry-run nothing is deleted, only listed; ' +
    "without it the repository's own dry-run setting applies, and --no-dry-run deletes even in a dry-run repository. " +
    'Deleted digests free their bytes when garbage collection runs. Needs the owner role on the repository.';

  static override examples = [
    '<%= config.bin %> repos cleanup backend --project my-project --dry-run',
    '<%= config.bin %> repos cleanup my-project/backend --no-dry-run --json',
  ];

  static override args = {
    id: Args.string({ description: 'repository ID, or PROJECT/REPOSITORY', required: true }),
  };
  static override flags = {
    project: commonFlags.project,
    'dry-run': Flags.boolean({
      description: "only list what would be deleted [default: the repository's setting]",
      allowNo: true,
    }),
    registry: commonFlags.registry,
  };

  async run(): Promise<CleanupRun> {
    const { args, flags } = await this.parse(ReposCleanup);
    const result = await cleanupRepository(
      this.context,
      repositoryTarget(this.context, args.id, flags.project, flags.registry),
      flags['dry-run'],
    );
    this.print(cleanupRunTable(result, this.context.io.target));
    return result;
  }
}
