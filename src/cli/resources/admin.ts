import { type MaintenanceRun, ManagementApi } from '../../client/management-api.js';
import type { GcReport } from '../../gc/collector.js';
import type { VerifyReport } from '../../gc/verify.js';
import type { CliContext } from '../context.js';
import { CliError } from '../errors.js';
import type { Spinner } from '../io.js';
import { formatBytes } from '../render.js';

/** `admin gc` and `admin verify` (the instance administrator). */

export interface GcResult {
  readonly run: string;
  readonly status: MaintenanceRun['status'];
  /** Present once the run has finished. */
  readonly report?: GcReport;
}

export interface VerifyResult {
  readonly run: string;
  readonly status: MaintenanceRun['status'];
  readonly report?: VerifyReport;
}

const pollMs = 250;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

const api = (context: CliContext, registry?: string) =>
  new ManagementApi(context.api(context.registry(registry)));

async function untilFinished(
  client: ManagementApi,
  started: MaintenanceRun,
  onProgress: (run: MaintenanceRun) => void,
): Promise<MaintenanceRun> {
  let run = started;
  while (run.status === 'running') {
    await sleep(pollMs);
    run = await client.getMaintenance(run.kind, run.id);
    onProgress(run);
  }
  if (run.status === 'failed') {
    throw new CliError(
      'SERVER_ERROR',
      `${run.kind === 'gc' ? 'garbage collection' : 'the integrity check'} failed: ${run.error}`,
      {
        hint: 'the daemon’s log has the details',
      },
    );
  }
  return run;
}

export async function collectGarbage(
  context: CliContext,
  options: { dryRun: boolean; wait: boolean; registry?: string; spinner: (text: string) => Spinner },
): Promise<GcResult> {
  const client = api(context, options.registry);
  const started = await client.startMaintenance('gc', { dryRun: options.dryRun });
  if (!options.wait) return { run: started.id, status: started.status };
  const spinner = options.spinner(options.dryRun ? 'Finding garbage…' : 'Collecting garbage…');
  try {
    const run = await untilFinished(client, started, () => undefined);
    spinner.stop();
    return { run: run.id, status: run.status, report: run.report as unknown as GcReport };
  } catch (error) {
    spinner.fail();
    throw error;
  }
}

export async function verifyStorage(
  context: CliContext,
  options: { repair: boolean; registry?: string; spinner: (text: string) => Spinner },
): Promise<VerifyResult> {
  const client = api(context, options.registry);
  const started = await client.startMaintenance('verify', { repair: options.repair });
  const spinner = options.spinner('Checking stored blobs…');
  try {
    const run = await untilFinished(client, started, (progress) => {
      const p = progress.progress;
      if (p) {
        spinner.update(
          `Checked ${p.checked} of ${p.total} blobs (${formatBytes(p.bytesChecked)} of ${formatBytes(p.bytesTotal)})`,
        );
      }
    });
    spinner.stop();
    const report = run.report as unknown as VerifyReport;
    return { run: run.id, status: run.status, report };
  } catch (error) {
    spinner.fail();
    throw error;
  }
}
