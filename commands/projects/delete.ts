import { Args } from '@oclif/core';
import { commonFlags, MistriveCommand } from '../../src/cli/base-command.js';
import { renderMessage } from '../../src/cli/render.js';
import { deleteProject, type ProjectDeleted } from '../../src/cli/resources/projects.js';

export default class ProjectsDelete extends MistriveCommand {
  static override summary = 'Delete a project with everything in it.';
  static override description =
    'Deletes its repositories, images, service accounts and their keys, and every IAM binding on them. Needs Artifact Store Owner on the project. Asks first on a terminal, unless --yes.';

  static override examples = [
    '<%= config.bin %> projects delete my-project',
    '<%= config.bin %> projects delete my-project --yes',
  ];
  static override args = { id: Args.string({ description: 'project ID', required: true }) };
  static override flags = { yes: commonFlags.yes, registry: commonFlags.registry };

  async run(): Promise<ProjectDeleted> {
    const { args, flags } = await this.parse(ProjectsDelete);
    await this.confirmDeletion(`project ${args.id} and everything in it`, flags.yes);
    const result = await deleteProject(this.context, args.id, flags.registry);
    this.print(renderMessage(`Deleted project ${result.project}.`, this.context.io.target, 'success'));
    return result;
  }
}
