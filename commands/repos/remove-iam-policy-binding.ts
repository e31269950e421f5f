import { Args } from '@oclif/core';
import { commonFlags, MistriveCommand } from '../../src/cli/base-command.js';
import { bindingFlags, changeIamBinding, renderBindingChange } from '../../src/cli/resources/iam.js';
import { repositoryTarget } from '../../src/cli/resources/repositories.js';
import type { Policy } from '../../src/client/management-api.js';

export default class ReposRemoveIamPolicyBinding extends MistriveCommand {
  static override summary = 'Revoke a role on a repository.';
  static override description =
    'Removes one member from one role on the repository. Roles held through the project or organization are not affected.';

  static override examples = [
    '<%= config.bin %> repos remove-iam-policy-binding backend --project my-project --member user:bob@example.com --role editor',
    '<%= config.bin %> repos remove-iam-policy-binding my-project/public --member allUsers --role viewer',
  ];

  static override args = {
    id: Args.string({ description: 'repository ID, or PROJECT/REPOSITORY', required: true }),
  };
  static override flags = {
    project: commonFlags.project,
    ...bindingFlags('viewer, editor or owner'),
    registry: commonFlags.registry,
  };

  async run(): Promise<Policy> {
    const { args, flags } = await this.parse(ReposRemoveIamPolicyBinding);
    const { registry, project, repository } = repositoryTarget(
      this.context,
      args.id,
      flags.project,
      flags.registry,
    );
    const target = { registry, resource: { kind: 'repository', project, repository } } as const;
    const policy = await changeIamBinding(this.context, target, 'remove', flags);
    this.print(
      renderBindingChange('remove', `${project}/${repository}`, flags, policy, this.context.io.target),
    );
    return policy;
  }
}
