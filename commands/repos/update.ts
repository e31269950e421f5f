import { Args, Flags } from '@oclif/core';
import { commonFlags, MistriveCommand } from '../../src/cli/base-command.js';
import { readAllStdin } from '../../src/cli/io.js';
import { remoteFlags } from '../../src/cli/remote-flags.js';
import { renderMessage } from '../../src/cli/render.js';
import {
  describePolicy,
  securityPolicyChanges,
  securityPolicyFlags,
} from '../../src/cli/resources/policies.js';
import {
  type RepositoryUpdate,
  readPolicyFile,
  remoteUpdate,
  repositoryTarget,
  updateRepository,
} from '../../src/cli/resources/repositories.js';
import { repositoryDetails } from '../../src/cli/views.js';

export default class ReposUpdate extends MistriveCommand {
  static override summary = "Change a repository's settings.";
  static override description =
    "Only the settings given change; a remote repository's upstream settings (--remote-*) too. Needs the owner role on the repository. Security policy settings override the project's; allowed vulnerabilities and exempt principals add to the project's.";
  static override examples = [
    '<%= config.bin %> repos update backend --project my-project --scanning',
    '<%= config.bin %> repos update my-project/releases --no-immutable-tags --description "Release builds"',
    '<%= config.bin %> repos update backend --project my-project --cleanup-policies policies.json',
    '<%= config.bin %> repos update backend --project my-project --no-cleanup-dry-run',
    '<%= config.bin %> repos update dockerhub --project my-project --remote-ttl 1h',
    '<%= config.bin %> repos update my-project/backend --block-severity HIGH --allow-cve CVE-2024-3094=2027-01-01',
    '<%= config.bin %> repos update my-project/backend --block-unscanned --exempt serviceAccount:scanner@my-project.iam',
  ];

  static override args = {
    id: Args.string({ description: 'repository ID, or PROJECT/REPOSITORY', required: true }),
  };
  static override flags = {
    project: commonFlags.project,
    scanning: Flags.boolean({ description: 'scan every pushed image for vulnerabilities', allowNo: true }),
    'immutable-tags': Flags.boolean({
      description: 'refuse to move or delete a tag once it exists',
      allowNo: true,
    }),
    'display-name': Flags.string({ description: 'a name for people' }),
    description: Flags.string({ description: 'what the repository holds' }),
    'cleanup-policies': Flags.string({
      description: 'a JSON file of cleanup policies; replaces every policy ([] removes them)',
      helpValue: 'FILE.json',
    }),
    'cleanup-dry-run': Flags.boolean({
      description: 'only record what the cleanup policies would delete (--no-cleanup-dry-run: delete it)',
      allowNo: true,
    }),
    ...remoteFlags,
    'remote-anonymous': Flags.boolean({
      description: 'stop signing in to the upstream (removes the stored user and password)',
      helpGroup: 'REMOTE',
    }),
    ...securityPolicyFlags,
    registry: commonFlags.registry,
  };

  async run(): Promise<RepositoryUpdate> {
    const { args, flags } = await this.parse(ReposUpdate);
    const result = await updateRepository(
      this.context,
      repositoryTarget(this.context, args.id, flags.project, flags.registry),
      {
        scanning: flags.scanning,
        immutableTags: flags['immutable-tags'],
        displayName: flags['display-name'],
        description: flags.description,
        cleanupPolicies:
          flags['cleanup-policies'] === undefined
            ? undefined
            : await readPolicyFile(flags['cleanup-policies']),
        cleanupDryRun: flags['cleanup-dry-run'],
        remote: await remoteUpdate(flags, () => readAllStdin(this.context.io)),
      },
      securityPolicyChanges(flags),
    );
    const target = this.context.io.target;
    this.print(renderMessage(`Updated repository ${result.name}.`, target, 'success'));
    if (target.tty) this.print(repositoryDetails(result, target));
    if (result.securityPolicy) {
      const lines = describePolicy(result.securityPolicy.effective);
      this.print(
        `Security policy in effect:\n${lines.length > 0 ? lines.join('\n') : '(nothing blocks pulls)'}\n`,
      );
    }
    return result;
  }
}
