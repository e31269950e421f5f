import { Args } from '@oclif/core';
import { commonFlags, MistriveCommand } from '../../src/cli/base-command.js';
import { bindingFlags, changeIamBinding, renderBindingChange } from '../../src/cli/resources/iam.js';
import type { Policy } from '../../src/client/management-api.js';

export default class ProjectsRemoveIamPolicyBinding extends MistriveCommand {
  static override summary = 'Revoke a role on a project.';
  static override description =
    'Removes one member from one role. Roles held through the organization are not affected.';

  static override examples = [
    '<%= config.bin %> projects remove-iam-policy-binding my-project --member user:alice@example.com --role artifactstore.editor',
    '<%= config.bin %> projects remove-iam-policy-binding my-project --member serviceAccount:ci@my-project.iam.mistrive --role artifactstore.owner',
  ];

  static override args = { id: Args.string({ description: 'project ID', required: true }) };
  static override flags = {
    ...bindingFlags('artifactstore.viewer, artifactstore.editor or artifactstore.owner'),
    registry: commonFlags.registry,
  };

  async run(): Promise<Policy> {
    const { args, flags } = await this.parse(ProjectsRemoveIamPolicyBinding);
    const target = {
      registry: this.context.registry(flags.registry),
      resource: { kind: 'project', project: args.id },
    } as const;
    const policy = await changeIamBinding(this.context, target, 'remove', flags);
    this.print(renderBindingChange('remove', `project ${args.id}`, flags, policy, this.context.io.target));
    return policy;
  }
}
