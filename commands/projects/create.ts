import { Args, Flags } from '@oclif/core';
import { commonFlags, MistriveCommand } from '../../src/cli/base-command.js';
import { renderMessage } from '../../src/cli/render.js';
import { createProject } from '../../src/cli/resources/projects.js';
import type { Project } from '../../src/client/management-api.js';

export default class ProjectsCreate extends MistriveCommand {
  static override summary = 'Create a project.';
  static override description =
    'Project IDs are lowercase letters, digits and hyphens, starting with a letter; they are the first part of every image reference (HOST/PROJECT/REPOSITORY/IMAGE). Needs the instance administrator or Artifact Store Owner on the organization.';

  static override examples = [
    '<%= config.bin %> projects create my-project',
    '<%= config.bin %> projects create my-project --display-name "My project" --description "Backend images"',
  ];

  static override args = { id: Args.string({ description: 'project ID', required: true }) };
  static override flags = {
    'display-name': Flags.string({ description: 'a name for people' }),
    description: Flags.string({ description: 'what the project is for' }),
    organization: Flags.string({ description: 'the organization it joins [default: default]' }),
    registry: commonFlags.registry,
  };

  async run(): Promise<Project> {
    const { args, flags } = await this.parse(ProjectsCreate);
    const result = await createProject(
      this.context,
      {
        id: args.id,
        displayName: flags['display-name'],
        description: flags.description,
        organization: flags.organization,
      },
      flags.registry,
    );
    this.print(renderMessage(`Created project ${result.id}.`, this.context.io.target, 'success'));
    return result;
  }
}
