import type { CompletedPart } from '@aws-sdk/client-s3';
import type { S3Commands } from './s3-client.js';

/** An object to take bytes from, whole; `etag` pins the version that was listed. */
export interface SourceObject {
  readonly key: string;
  readonly size: number;
  readonly etag?: string | undefined;
}

/** S3's smallest part (except the last) and its largest part and single copy. */
export const minPartBytes = 5 * 1024 * 1024;
const maxCopyBytes = 5 * 1024 * 1024 * 1024;
/** Parts written at once while assembling. */
const partConcurrency = 4;

/** One part of the object being assembled: a server-side copy of a range, or small sources joined. */
type PartPlan =
  | { readonly kind: 'copy'; readonly source: SourceObject; readonly start: number; readonly end: number }
  | { readonly kind: 'join'; readonly sources: readonly SourceObject[] };

/**
 * Writes `sources`, one after another, as the object `target`. It appears whole or not at all: a
 * single copy, a single put, or a multipart upload that only completes once every part is stored.
 * Sources of 5 MiB or more are copied server-side, so their bytes never cross this process; runs of
 * smaller ones (staged small chunks) are read and uploaded joined, as parts of at least 5 MiB.
 */
export async function assembleObject(
  s3: S3Commands,
  target: string,
  sources: readonly SourceObject[],
): Promise<void> {
  const total = sources.reduce((sum, source) => sum + source.size, 0);
  const [only] = sources;
  if (sources.length === 1 && only && only.size <= maxCopyBytes) {
    await s3.copy(only.key, target, only.etag);
  } else if (total < minPartBytes) {
    await s3.put(target, await join(s3, sources));
  } else {
    await multipart(s3, target, planParts(sources));
  }
  const stored = await s3.size(target);
  if (stored !== total) {
    throw new Error(`S3 object ${target} holds ${stored ?? 'no'} bytes after assembly, not ${total}`);
  }
}

/** Splits the sources into parts S3 accepts: each at least 5 MiB but the last, none over 5 GiB. */
export function planParts(sources: readonly SourceObject[]): PartPlan[] {
  const parts: PartPlan[] = [];
  let pending: SourceObject[] = [];
  let pendingBytes = 0;
  for (const source of sources) {
    if (pending.length === 0 && source.size >= minPartBytes) {
      for (let start = 0; start < source.size; start += maxCopyBytes) {
        parts.push({ kind: 'copy', source, start, end: Math.min(start + maxCopyBytes, source.size) - 1 });
      }
      continue;
    }
    pending.push(source);
    pendingBytes += source.size;
    if (pendingBytes >= minPartBytes) {
      parts.push({ kind: 'join', sources: pending });
      pending = [];
      pendingBytes = 0;
    }
  }
  if (pending.length > 0) parts.push({ kind: 'join', sources: pending });
  return parts;
}

async function multipart(s3: S3Commands, target: string, plan: readonly PartPlan[]): Promise<void> {
  const uploadId = await s3.startMultipart(target);
  try {
    const completed: CompletedPart[] = new Array(plan.length);
    let next = 0;
    const worker = async () => {
      for (let index = next++; index < plan.length; index = next++) {
        const part = plan[index] as PartPlan;
        const number = index + 1;
        completed[index] =
          part.kind === 'copy'
            ? await s3.copyPart(target, uploadId, number, part.source.key, part, part.source.etag)
            : await s3.uploadPart(target, uploadId, number, await join(s3, part.sources));
      }
    };
    await Promise.all(Array.from({ length: Math.min(partConcurrency, plan.length) }, worker));
    await s3.completeMultipart(target, uploadId, completed);
  } catch (error) {
    // Best effort: what is left behind is aborted by the upload purge (`abortStaleWrites`).
    await s3.abortMultipart(target, uploadId).catch(() => undefined);
    throw error;
  }
}

async function join(s3: S3Commands, sources: readonly SourceObject[]): Promise<Buffer> {
  const buffers: Buffer[] = [];
  for (const source of sources) buffers.push(await s3.readAll(source.key));
  return Buffer.concat(buffers);
}
