import { Args } from '@oclif/core';
import { commonFlags, MistriveCommand } from '../../src/cli/base-command.js';
import { getIamPolicy } from '../../src/cli/resources/iam.js';
import { policyTable } from '../../src/cli/views.js';
import type { Policy } from '../../src/client/management-api.js';

export default class ProjectsGetIamPolicy extends MistriveCommand {
  static override summary = 'Show who holds which role on a project.';
  static override description =
    'Roles on a project (artifactstore.viewer, artifactstore.editor, artifactstore.owner) apply to every repository in it. Needs Artifact Store Owner on the project.';

  static override examples = [
    '<%= config.bin %> projects get-iam-policy my-project',
    '<%= config.bin %> projects get-iam-policy my-project --json',
  ];
  static override args = { id: Args.string({ description: 'project ID', required: true }) };
  static override flags = { registry: commonFlags.registry };

  async run(): Promise<Policy> {
    const { args, flags } = await this.parse(ProjectsGetIamPolicy);
    const result = await getIamPolicy(this.context, {
      registry: this.context.registry(flags.registry),
      resource: { kind: 'project', project: args.id },
    });
    this.print(policyTable(result, this.context.io.target));
    return result;
  }
}
