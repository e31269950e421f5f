import { Args, Flags } from '@oclif/core';
import { commonFlags, MistriveCommand } from '../../src/cli/base-command.js';
import { renderMessage } from '../../src/cli/render.js';
import { removeIamBinding } from '../../src/cli/resources/iam.js';
import { policyTable } from '../../src/cli/views.js';
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
    member: Flags.string({
      description: 'who: user:EMAIL, serviceAccount:EMAIL, allUsers or allAuthenticatedUsers',
      required: true,
    }),
    role: Flags.string({
      description: 'artifactstore.viewer, artifactstore.editor or artifactstore.owner',
      required: true,
    }),
    registry: commonFlags.registry,
  };

  async run(): Promise<Policy> {
    const { args, flags } = await this.parse(ProjectsRemoveIamPolicyBinding);
    const result = await removeIamBinding(
      this.context,
      { registry: this.context.registry(flags.registry), resource: { kind: 'project', project: args.id } },
      flags.member,
      flags.role,
    );
    const target = this.context.io.target;
    this.print(
      renderMessage(`Revoked ${flags.role} on project ${args.id} from ${flags.member}.`, target, 'success'),
    );
    if (target.tty) this.print(policyTable(result, target));
    return result;
  }
}
