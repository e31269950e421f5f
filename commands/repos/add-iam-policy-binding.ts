import { Args } from '@oclif/core';
import { commonFlags, MistriveCommand } from '../../src/cli/base-command.js';
import { bindingFlags, changeIamBinding, renderBindingChange } from '../../src/cli/resources/iam.js';
import { repositoryTarget } from '../../src/cli/resources/repositories.js';
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
    ...bindingFlags('viewer, editor or owner'),
    registry: commonFlags.registry,
  };

  async run(): Promise<Policy> {
    const { args, flags } = await this.parse(ReposAddIamPolicyBinding);
    const { registry, project, repository } = repositoryTarget(
      this.context,
      args.id,
      flags.project,
      flags.registry,
    );
    const target = { registry, resource: { kind: 'repository', project, repository } } as const;
    const policy = await changeIamBinding(this.context, target, 'add', flags);
    this.print(renderBindingChange('add', `${project}/${repository}`, flags, policy, this.context.io.target));
    return policy;
  }
}
