import { Args } from '@oclif/core';
import { commonFlags, MistriveCommand } from '../../src/cli/base-command.js';
import { getIamPolicy } from '../../src/cli/resources/iam.js';
import { repositoryTarget } from '../../src/cli/resources/repositories.js';
import { policyTable } from '../../src/cli/views.js';
import type { Policy } from '../../src/client/management-api.js';

export default class ReposGetIamPolicy extends MistriveCommand {
  static override summary = 'Show who holds which role on a repository.';
  static override description =
    'Lists the bindings on the repository itself (viewer, editor, owner); roles on its project and organization apply too. Needs the owner role on the repository.';

  static override examples = [
    '<%= config.bin %> repos get-iam-policy backend --project my-project',
    '<%= config.bin %> repos get-iam-policy my-project/backend --json',
  ];
  static override args = {
    id: Args.string({ description: 'repository ID, or PROJECT/REPOSITORY', required: true }),
  };
  static override flags = { project: commonFlags.project, registry: commonFlags.registry };

  async run(): Promise<Policy> {
    const { args, flags } = await this.parse(ReposGetIamPolicy);
    const target = repositoryTarget(this.context, args.id, flags.project, flags.registry);
    const result = await getIamPolicy(this.context, {
      registry: target.registry,
      resource: { kind: 'repository', project: target.project, repository: target.repository },
    });
    this.print(policyTable(result, this.context.io.target));
    return result;
  }
}
