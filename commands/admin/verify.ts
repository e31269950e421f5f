import { Flags } from '@oclif/core';
import { verifyReportView } from '../../src/cli/admin-views.js';
import { commonFlags, exitCodes, MistriveCommand } from '../../src/cli/base-command.js';
import { startSpinner } from '../../src/cli/io.js';
import { type VerifyResult, verifyStorage } from '../../src/cli/resources/admin.js';

export default class AdminVerify extends MistriveCommand {
  static override summary =
    'Re-hash every stored blob and report what is wrong (instance administrator only).';
  static override description =
    'Reports blobs whose bytes no longer match their digest, blobs the metadata names that are missing, and files the metadata does not know of; progress shows on a terminal. With --repair, corrupt blobs are quarantined (pulls then answer BLOB_UNKNOWN instead of wrong bytes) and unknown files older than gc.delay are removed. Exits 6 when problems were found.';
  static override examples = [
    '<%= config.bin %> admin verify',
    '<%= config.bin %> admin verify --repair --json',
  ];
  static override flags = {
    repair: Flags.boolean({
      description: 'quarantine corrupt blobs and remove unknown files older than gc.delay',
    }),
    registry: commonFlags.registry,
  };

  async run(): Promise<VerifyResult> {
    const { flags } = await this.parse(AdminVerify);
    const result = await verifyStorage(this.context, {
      repair: flags.repair,
      registry: flags.registry,
      spinner: (text) => startSpinner(this.context.io, text, !this.jsonEnabled()),
    });
    this.print(verifyReportView(result, this.context.io.target));
    if (result.report && !result.report.healthy) process.exitCode = exitCodes.FAILED_PRECONDITION;
    return result;
  }
}
