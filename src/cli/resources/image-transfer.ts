import { createReadStream, createWriteStream } from 'node:fs';
import { rm } from 'node:fs/promises';
import type { Readable, Writable } from 'node:stream';
import type { CopyResult } from '../../transfer/copy.js';
import type { ArchiveFormat, ExportResult } from '../../transfer/export.js';
import { formatRemoteImage, parseRemoteImage } from '../../transfer/image-reference.js';
import type { ImportResult } from '../../transfer/import.js';
import { parsePlatform } from '../../transfer/manifest-graph.js';
import { silentProgress, type TransferProgress, terminalProgress } from '../../transfer/progress.js';
import { registryClientFor } from '../../transfer/registry-access.js';
import type { CliContext } from '../context.js';
import { CliError } from '../errors.js';

/**
 * `images copy`, `images export` and `images import`: references resolved against the configured
 * registry, clients signed in as the user is, progress on a terminal only. The transfer modules
 * (tar-stream, the streaming client) are loaded only by the command that needs them.
 */

export interface TransferFlags {
  readonly registry?: string;
  readonly platform?: string;
  readonly concurrency: number;
  /** Whether a progress line may be drawn on stderr. */
  readonly showProgress: boolean;
}

function progressFor(context: CliContext, verb: string, show: boolean): TransferProgress {
  return show && context.io.stderrTty ? terminalProgress(context.io.stderr, verb) : silentProgress;
}

export interface ImageCopy extends CopyResult {
  readonly source: string;
  readonly destination: string;
  /** How long the copy took, sign-in and start-up of the CLI excluded. */
  readonly seconds: number;
}

export async function copyImage(
  context: CliContext,
  sourceText: string,
  destinationText: string,
  flags: TransferFlags & { allTags: boolean; withReferrers: boolean },
): Promise<ImageCopy> {
  const registry = context.registry(flags.registry);
  const source = parseRemoteImage(sourceText, registry);
  const destination = parseRemoteImage(destinationText, registry);
  const { copyImages } = await import('../../transfer/copy.js');
  const started = performance.now();
  const result = await copyImages(
    {
      source,
      destination,
      sourceClient: registryClientFor(context, source),
      destinationClient: registryClientFor(context, destination),
    },
    {
      allTags: flags.allTags,
      platform: flags.platform ? parsePlatform(flags.platform) : undefined,
      withReferrers: flags.withReferrers,
      concurrency: flags.concurrency,
      progress: progressFor(context, 'Copying', flags.showProgress),
    },
  );
  const seconds = Number(((performance.now() - started) / 1000).toFixed(3));
  return {
    source: formatRemoteImage(source),
    destination: formatRemoteImage(destination),
    ...result,
    seconds,
  };
}

export interface ImageExport extends ExportResult {
  /** The file written, or `-` for stdout. */
  readonly output: string;
}

export async function exportImageToFile(
  context: CliContext,
  imageText: string,
  output: string,
  flags: TransferFlags & { format: ArchiveFormat },
): Promise<ImageExport> {
  const image = parseRemoteImage(imageText, context.registry(flags.registry));
  const toStdout = output === '-';
  const sink: Writable = toStdout
    ? (context.io.stdout as unknown as Writable)
    : createWriteStream(output, { highWaterMark: 1024 * 1024 });
  try {
    const { exportImage } = await import('../../transfer/export.js');
    const result = await exportImage(registryClientFor(context, image), image, sink, {
      format: flags.format,
      platform: flags.platform ? parsePlatform(flags.platform) : undefined,
      progress: progressFor(context, 'Exporting', flags.showProgress),
    });
    return { ...result, output };
  } catch (error) {
    // A half-written archive is no archive: remove it rather than leave it for a later import.
    if (!toStdout) await rm(output, { force: true });
    throw error;
  }
}

export interface ImageImport extends ImportResult {
  readonly archive: string;
}

export async function importImageFromFile(
  context: CliContext,
  archive: string,
  imageText: string,
  flags: TransferFlags,
): Promise<ImageImport> {
  const image = parseRemoteImage(imageText, context.registry(flags.registry));
  let source: Readable;
  if (archive === '-') source = context.io.stdin as unknown as Readable;
  else {
    source = createReadStream(archive, { highWaterMark: 1024 * 1024 });
    await new Promise<void>((resolve, reject) => {
      source.once('open', () => resolve());
      source.once('error', (error) =>
        reject(
          new CliError(
            'LOCAL_FILE',
            `cannot read ${archive}: ${(error as NodeJS.ErrnoException).code ?? error.message}`,
          ),
        ),
      );
    });
  }
  const { importArchive } = await import('../../transfer/import.js');
  const result = await importArchive(source, registryClientFor(context, image), image, {
    concurrency: flags.concurrency,
    progress: progressFor(context, 'Importing', flags.showProgress),
  });
  return { ...result, archive };
}
