import { Flags } from '@oclif/core';
import { gcReportView } from '../../src/cli/admin-views.js';
import { commonFlags, MistriveCommand } from '../../src/cli/base-command.js';
import { startSpinner } from '../../src/cli/io.js';
import { collectGarbage, type GcResult } from '../../src/cli/resources/admin.js';

export default class AdminGc extends MistriveCommand {
  static override summary = 'Collect garbage now (instance administrator only).';
  static override description =
    'Removes what nothing references any longer: blobs and manifests no repository holds, links to blobs no client was told of for gc.delay, empty images, scans of deleted digests, and files the metadata does not know of. Runs inside the daemon, which keeps serving. With --wait, waits and prints what was removed and the bytes reclaimed; --dry-run only reports.';
  static override examples = [
    '<%= config.bin %> admin gc --dry-run --wait',
    '<%= config.bin %> admin gc --wait --json',
  ];
  static override flags = {
    'dry-run': Flags.boolean({ description: 'report what would be removed; remove nothing' }),
    wait: Flags.boolean({ description: 'wait for the run to finish and print its report' }),
    registry: commonFlags.registry,
  };

  async run(): Promise<GcResult> {
    const { flags } = await this.parse(AdminGc);
    const result = await collectGarbage(this.context, {
      dryRun: flags['dry-run'],
      wait: flags.wait,
      registry: flags.registry,
      spinner: (text) => startSpinner(this.context.io, text, !this.jsonEnabled()),
    });
    this.print(gcReportView(result, this.context.io.target));
    return result;
  }
}
