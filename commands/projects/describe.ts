import { Args } from '@oclif/core';
import { commonFlags, MistriveCommand } from '../../src/cli/base-command.js';
import { describeProject } from '../../src/cli/resources/projects.js';
import { projectDetails } from '../../src/cli/views.js';
import type { Project } from '../../src/client/management-api.js';

export default class ProjectsDescribe extends MistriveCommand {
  static override summary = 'Show a project.';
  static override examples = ['<%= config.bin %> projects describe my-project'];
  static override args = { id: Args.string({ description: 'project ID', required: true }) };
  static override flags = { registry: commonFlags.registry };

  async run(): Promise<Project> {
    const { args, flags } = await this.parse(ProjectsDescribe);
    const result = await describeProject(this.context, args.id, flags.registry);
    this.print(projectDetails(result, this.context.io.target));
    return result;
  }
}
