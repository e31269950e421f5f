import { Args, Flags } from '@oclif/core';
import { commonFlags, MistriveCommand } from '../../src/cli/base-command.js';
import { renderMessage } from '../../src/cli/render.js';
import { parseStorageQuota, updateProject } from '../../src/cli/resources/projects.js';
import { projectDetails } from '../../src/cli/views.js';
import type { Project } from '../../src/client/management-api.js';

export default class ProjectsUpdate extends MistriveCommand {
  static override summary = "Change a project's settings.";
  static override description =
    'Only the settings given change. Needs artifactstore.owner on the project; a storage quota, the instance administrator.';

  static override examples = [
    '<%= config.bin %> projects update my-project --storage-quota 10GiB',
    '<%= config.bin %> projects update my-project --storage-quota none',
    '<%= config.bin %> projects update my-project --description "Backend images"',
  ];

  static override args = { id: Args.string({ description: 'project ID', required: true }) };
  static override flags = {
    'storage-quota': Flags.string({
      description: 'the most its repositories may hold together, e.g. 10GiB or 500MB; none removes it',
      helpValue: 'SIZE',
    }),
    'display-name': Flags.string({ description: 'a name for people' }),
    description: Flags.string({ description: 'what the project is for' }),
    registry: commonFlags.registry,
  };

  async run(): Promise<Project> {
    const { args, flags } = await this.parse(ProjectsUpdate);
    const quota = flags['storage-quota'];
    const result = await updateProject(
      this.context,
      args.id,
      {
        displayName: flags['display-name'],
        description: flags.description,
        storageQuota: quota === undefined ? undefined : parseStorageQuota(quota),
      },
      flags.registry,
    );
    const target = this.context.io.target;
    this.print(renderMessage(`Updated project ${result.id}.`, target, 'success'));
    if (target.tty) this.print(projectDetails(result, target));
    return result;
  }
}
