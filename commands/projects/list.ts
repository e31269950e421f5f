import { commonFlags, MistriveCommand } from '../../src/cli/base-command.js';
import { listProjects, type ProjectList } from '../../src/cli/resources/projects.js';
import { projectTable } from '../../src/cli/views.js';

export default class ProjectsList extends MistriveCommand {
  static override summary = 'List the projects you can see.';
  static override examples = ['<%= config.bin %> projects list', '<%= config.bin %> projects list --json'];
  static override flags = { registry: commonFlags.registry };

  async run(): Promise<ProjectList> {
    const { flags } = await this.parse(ProjectsList);
    const result = await listProjects(this.context, flags.registry);
    this.print(projectTable(result.projects, this.context.io.target));
    return result;
  }
}
