import { commonFlags, MistriveCommand } from '../../src/cli/base-command.js';
import { listRepositories, type RepositoryList } from '../../src/cli/resources/repositories.js';
import { repositoryTable } from '../../src/cli/views.js';

export default class ReposList extends MistriveCommand {
  static override summary = 'List the repositories of a project.';
  static override examples = [
    '<%= config.bin %> repos list --project my-project',
    '<%= config.bin %> repos list --project my-project --json',
  ];
  static override flags = { project: commonFlags.project, registry: commonFlags.registry };

  async run(): Promise<RepositoryList> {
    const { flags } = await this.parse(ReposList);
    const result = await listRepositories(
      this.context,
      this.context.project(flags.project),
      this.context.registry(flags.registry),
    );
    this.print(repositoryTable(result.repositories, this.context.io.target, result.project));
    return result;
  }
}
