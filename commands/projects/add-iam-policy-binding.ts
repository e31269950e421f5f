import { Args, Flags } from '@oclif/core';
import { commonFlags, MistriveCommand } from '../../src/cli/base-command.js';
import { renderMessage } from '../../src/cli/render.js';
import { addIamBinding } from '../../src/cli/resources/iam.js';
import { policyTable } from '../../src/cli/views.js';
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
    const { args, flags } = await this.parse(ProjectsAddIamPolicyBinding);
    const result = await addIamBinding(
      this.context,
      { registry: this.context.registry(flags.registry), resource: { kind: 'project', project: args.id } },
      flags.member,
      flags.role,
    );
    const target = this.context.io.target;
    this.print(
      renderMessage(`Granted ${flags.role} on project ${args.id} to ${flags.member}.`, target, 'success'),
    );
    if (target.tty) this.print(policyTable(result, target));
    return result;
  }
}
