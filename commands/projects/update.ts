import { Args, Flags } from '@oclif/core';
import { commonFlags, MistriveCommand } from '../../src/cli/base-command.js';
import { renderMessage } from '../../src/cli/render.js';
import {
  describePolicy,
  rateLimitChanges,
  rateLimitFlags,
  securityPolicyChanges,
  securityPolicyFlags,
} from '../../src/cli/resources/policies.js';
import { type ProjectUpdate, parseStorageQuota, updateProject } from '../../src/cli/resources/projects.js';
import { projectDetails } from '../../src/cli/views.js';

export default class ProjectsUpdate extends MistriveCommand {
  static override summary = "Change a project's settings.";
  static override description =
    "Only the settings given change. Needs artifactstore.owner on the project; a storage quota or a rate, the instance administrator. Rates override the instance defaults for requests on the project's repositories; the security policy settings are inherited by every repository of the project.";

  static override examples = [
    '<%= config.bin %> projects update my-project --storage-quota 10GiB',
    '<%= config.bin %> projects update my-project --storage-quota none',
    '<%= config.bin %> projects update my-project --description "Backend images"',
    '<%= config.bin %> projects update my-project --pull-rate 600/min --push-rate 60/min',
    '<%= config.bin %> projects update my-project --pull-rate default',
    '<%= config.bin %> projects update my-project --block-severity HIGH --allow-cve CVE-2024-3094=2027-01-01',
  ];

  static override args = { id: Args.string({ description: 'project ID', required: true }) };
  static override flags = {
    'storage-quota': Flags.string({
      description: 'the most its repositories may hold together, e.g. 10GiB or 500MB; none removes it',
      helpValue: 'SIZE',
    }),
    'display-name': Flags.string({ description: 'a name for people' }),
    description: Flags.string({ description: 'what the project is for' }),
    ...rateLimitFlags,
    ...securityPolicyFlags,
    registry: commonFlags.registry,
  };

  async run(): Promise<ProjectUpdate> {
    const { args, flags } = await this.parse(ProjectsUpdate);
    const quota = flags['storage-quota'];
    const result = await updateProject(
      this.context,
      args.id,
      {
        displayName: flags['display-name'],
        description: flags.description,
        storageQuota: quota === undefined ? undefined : parseStorageQuota(quota),
      },
      flags.registry,
      { rateLimits: rateLimitChanges(flags), securityPolicy: securityPolicyChanges(flags) },
    );
    const target = this.context.io.target;
    this.print(renderMessage(`Updated project ${result.id}.`, target, 'success'));
    if (target.tty) this.print(projectDetails(result, target));
    if (result.rateLimits) {
      const { effective } = result.rateLimits;
      this.print(
        `Rate limits: pull ${effective.pull}, push ${effective.push} per principal; ${effective.repositoryPull} pulls, ${effective.repositoryPush} pushes per repository\n`,
      );
    }
    if (result.securityPolicy) {
      const lines = describePolicy(result.securityPolicy);
      this.print(`${lines.length > 0 ? lines.join('\n') : 'Security policy: none set'}\n`);
    }
    return result;
  }
}
