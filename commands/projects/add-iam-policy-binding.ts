import { Args } from '@oclif/core';
import { commonFlags, MistriveCommand } from '../../src/cli/base-command.js';
import { bindingFlags, changeIamBinding, renderBindingChange } from '../../src/cli/resources/iam.js';
import type { Policy } from '../../src/client/management-api.js';

export default class ProjectsAddIamPolicyBinding extends MistriveCommand {
  static override summary = 'Grant a role on a project.';
  static override description =
    'Members: user:EMAIL, serviceAccount:EMAIL, allUsers (anyone) or allAuthenticatedUsers (anyone signed in); the last two can only be granted artifactstore.viewer. Roles: artifactstore.viewer, artifactstore.editor, artifactstore.owner. Adding a binding that exists changes nothing.';

  static override examples = [
    '<%= config.bin %> projects add-iam-policy-binding my-project --member user:alice@example.com --role artifactstore.editor',
    '<%= config.bin %> projects add-iam-policy-binding my-project --member allAuthenticatedUsers --role artifactstore.viewer',
  ];

  static override args = { id: Args.string({ description: 'project ID', required: true }) };
  static override flags = {
    ...bindingFlags('artifactstore.viewer, artifactstore.editor or artifactstore.owner'),
    registry: commonFlags.registry,
  };

  async run(): Promise<Policy> {
    const { args, flags } = await this.parse(ProjectsAddIamPolicyBinding);
    const target = {
      registry: this.context.registry(flags.registry),
      resource: { kind: 'project', project: args.id },
    } as const;
    const policy = await changeIamBinding(this.context, target, 'add', flags);
    this.print(renderBindingChange('add', `project ${args.id}`, flags, policy, this.context.io.target));
    return policy;
  }
}
