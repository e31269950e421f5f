import { Args, Flags } from '@oclif/core';
import { commonFlags, MistriveCommand } from '../../src/cli/base-command.js';
import { startSpinner } from '../../src/cli/io.js';
import { type ScanResult, scanImage } from '../../src/cli/resources/vulnerabilities.js';
import { scanDetails } from '../../src/cli/views.js';

export default class ImagesScan extends MistriveCommand {
  static override summary = 'Scan an image for vulnerabilities now.';
  static override description =
    'Queues a new scan of the digest the reference names (an image without tag or digest means :latest; an index scans each platform image), whatever the last scan found. With --wait, polls until it finishes (a spinner shows on a terminal) and exits non-zero unless it succeeded. Needs the editor role on the repository.';

  static override examples = [
    '<%= config.bin %> images scan my-project/backend/api:v1.2.3 --wait',
    '<%= config.bin %> images scan localhost:5000/my-project/backend/api@sha256:4c1f…',
  ];

  static override args = {
    image: Args.string({
      description: 'image reference: [HOST/]PROJECT/REPOSITORY/IMAGE[:TAG|@DIGEST]',
      required: true,
    }),
  };

  static override flags = {
    wait: Flags.boolean({
      description: 'wait until the scan finishes (with a spinner on a terminal), and fail unless it succeeds',
    }),
    timeout: Flags.integer({
      description: 'with --wait: seconds to wait for the scan to finish',
      default: 600,
      min: 1,
    }),
    registry: commonFlags.registry,
  };

  async run(): Promise<ScanResult> {
    const { args, flags } = await this.parse(ImagesScan);
    const result = await scanImage(this.context, args.image, {
      wait: flags.wait,
      timeoutSeconds: flags.timeout,
      registry: flags.registry,
      spinner: (text) => startSpinner(this.context.io, text, !this.jsonEnabled()),
    });
    this.print(scanDetails(result, this.context.io.target));
    return result;
  }
}
