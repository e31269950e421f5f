import { Args, Flags } from '@oclif/core';
import { commonFlags, MistriveCommand } from '../../src/cli/base-command.js';
import { renderMessage } from '../../src/cli/render.js';
import { addIamBinding } from '../../src/cli/resources/iam.js';
import { repositoryTarget } from '../../src/cli/resources/repositories.js';
import { policyTable } from '../../src/cli/views.js';
import type { Policy } from '../../src/client/management-api.js';

export default class ReposAddIamPolicyBinding extends MistriveCommand {
  static override summary = 'Grant a role on a repository.';
  static override description =
    'Roles: viewer (pull, list), editor (viewer + push and tag), owner (editor + delete, settings, IAM). Members: user:EMAIL, serviceAccount:EMAIL, allUsers or allAuthenticatedUsers; the last two can only be granted viewer (public repositories stay read-only).';

  static override examples = [
    '<%= config.bin %> repos add-iam-policy-binding backend --project my-project --member user:bob@example.com --role editor',
    '<%= config.bin %> repos add-iam-policy-binding my-project/public --member allUsers --role viewer',
  ];

  static override args = {
    id: Args.string({ description: 'repository ID, or PROJECT/REPOSITORY', required: true }),
  };
  static override flags = {
    project: commonFlags.project,
    member: Flags.string({
      description: 'who: user:EMAIL, serviceAccount:EMAIL, allUsers or allAuthenticatedUsers',
      required: true,
    }),
    role: Flags.string({ description: 'viewer, editor or owner', required: true }),
    registry: commonFlags.registry,
  };

  async run(): Promise<Policy> {
    const { args, flags } = await this.parse(ReposAddIamPolicyBinding);
    const target = repositoryTarget(this.context, args.id, flags.project, flags.registry);
    const result = await addIamBinding(
      this.context,
      {
        registry: target.registry,
        resource: { kind: 'repository', project: target.project, repository: target.repository },
      },
      flags.member,
      flags.role,
    );
    const render = this.context.io.target;
    this.print(
      renderMessage(
        `Granted ${flags.role} on ${target.project}/${target.repository} to ${flags.member}.`,
        render,
        'success',
      ),
    );
    if (render.tty) this.print(policyTable(result, render));
    return result;
  }
}
