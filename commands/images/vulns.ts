import { Args, Flags } from '@oclif/core';
import { commonFlags, MistriveCommand } from '../../src/cli/base-command.js';
import { CliError } from '../../src/cli/errors.js';
import { type VulnerabilitiesResult, vulnerabilities } from '../../src/cli/resources/vulnerabilities.js';
import { vulnerabilityTable } from '../../src/cli/views.js';

export default class ImagesVulns extends MistriveCommand {
  static override summary = 'Show the vulnerabilities found in an image.';
  static override description =
    'Shows the last scan of the digest the reference names (an image without tag or digest means :latest) and its findings, worst first; for an index, those of each platform image. Exits with code 6, saying why, when there are no findings to show: the scan is not finished, failed, or the digest cannot be scanned. With --fail-on, exits with code 10 when it found anything at or above that severity (and with 6 when no finished scan vouches for the image), so a pipeline can gate on it.';

  static override examples = [
    '<%= config.bin %> images vulns my-project/backend/api:v1.2.3',
    '<%= config.bin %> images vulns localhost:5000/my-project/backend/api@sha256:4c1f… --severity CRITICAL,HIGH',
    '<%= config.bin %> images vulns my-project/backend/api:v1.2.3 --severity critical --severity high',
    '<%= config.bin %> images vulns my-project/backend/api:v1.2.3 --fail-on HIGH --json > report.json',
  ];

  static override args = {
    image: Args.string({
      description: 'image reference: [HOST/]PROJECT/REPOSITORY/IMAGE[:TAG|@DIGEST]',
      required: true,
    }),
  };

  static override flags = {
    severity: Flags.string({
      description:
        'only these severities (repeat the flag, or separate them by commas): CRITICAL,HIGH,MEDIUM,LOW,UNKNOWN',
      multiple: true,
      delimiter: ',',
    }),
    'fail-on': Flags.string({
      description: 'exit with code 10 when anything at or above this severity was found',
    }),
    registry: commonFlags.registry,
  };

  async run(): Promise<VulnerabilitiesResult> {
    const { args, flags } = await this.parse(ImagesVulns);
    const result = await vulnerabilities(this.context, args.image, {
      severity: flags.severity?.join(','),
      failOn: flags['fail-on'],
      registry: flags.registry,
    });
    this.print(vulnerabilityTable(result, this.context.io.target));
    if (result.failOn && result.failOn.count > 0) {
      // The report is the output either way; the exit code carries the verdict.
      if (this.jsonEnabled()) this.logJson(result);
      throw new CliError(
        'VULNERABILITIES_FOUND',
        `${result.failOn.count} vulnerabilit${result.failOn.count === 1 ? 'y' : 'ies'} at ${result.failOn.severity} or above in ${result.fullName}@${result.digest}`,
      );
    }
    return result;
  }
}
