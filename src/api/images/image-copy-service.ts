import type { ManifestRecord } from '../../db/metadata.js';
import { RegistryError } from '../../errors/registry-error.js';
import type { Caller } from '../../iam/principals.js';
import { parseManifest } from '../../oci/manifest.js';
import type { OciServices } from '../../oci/oci-routes.js';
import type { ApiAccess } from '../access-checks.js';

/**
 * Copies images between repositories of this instance without a byte leaving it: every blob is
 * linked into the destination as a cross-repository mount does, and every manifest is stored again
 * as its exact bytes through the same manifest service a push uses (so digests are preserved and
 * whatever listens to pushes, scanning included, hears of the copy). Reader on the source and
 * writer on the destination, checked by the one evaluator.
 */

export interface ImageLocation {
  readonly project: string;
  readonly repository: string;
  readonly image: string;
}

export interface CopyRequest {
  readonly source: ImageLocation & { readonly tag?: string; readonly digest?: string };
  /** The destination tag; the source's tag when not given. */
  readonly tag?: string;
  readonly allTags?: boolean;
  /** `os/arch[/variant]`: copy that platform of an index. */
  readonly platform?: string;
  readonly withReferrers?: boolean;
}

export interface ServerCopyResult {
  readonly images: { tag?: string; digest: string; mediaType: string }[];
  readonly manifests: { digest: string; action: 'copied' | 'skipped' }[];
  readonly blobsMounted: number;
  readonly blobsSkipped: number;
}

const nameOf = (location: ImageLocation) => `${location.project}/${location.repository}/${location.image}`;

export class ImageCopyService {
  constructor(
    private readonly access: ApiAccess,
    private readonly oci: OciServices,
  ) {}

  async copy(caller: Caller, destination: ImageLocation, request: CopyRequest): Promise<ServerCopyResult> {
    const { source } = request;
    await this.access.repository(caller, source.project, source.repository, 'read');
    await this.access.repository(caller, destination.project, destination.repository, 'write');
    if (request.allTags && (source.tag || source.digest || request.tag)) {
      throw new RegistryError(
        'INVALID_ARGUMENT',
        'allTags copies every tag: give no source tag or digest and no destination tag',
      );
    }
    if (source.tag && source.digest)
      throw new RegistryError('INVALID_ARGUMENT', 'give the source a tag or a digest, not both');
    const run = new CopyRun(this.oci, nameOf(source), nameOf(destination), request);
    if (request.allTags) {
      const tags = await this.allTags(nameOf(source));
      for (const tag of tags) await run.root(tag, tag);
    } else {
      const reference = source.digest ?? source.tag ?? 'latest';
      await run.root(reference, request.tag ?? (source.digest ? undefined : reference));
    }
    return run.result;
  }

  private async allTags(name: string): Promise<string[]> {
    const tags: string[] = [];
    let last: string | undefined;
    for (;;) {
      const page = await this.oci.listings.tags(name, { n: 1000, last });
      tags.push(...page.items);
      if (!page.more) return tags;
      last = page.items.at(-1);
    }
  }
}

class CopyRun {
  readonly result: { -readonly [K in keyof ServerCopyResult]: ServerCopyResult[K] } = {
    images: [],
    manifests: [],
    blobsMounted: 0,
    blobsSkipped: 0,
  };
  private readonly done = new Set<string>();

  constructor(
    private readonly oci: OciServices,
    private readonly from: string,
    private readonly to: string,
    private readonly request: CopyRequest,
  ) {}

  async root(reference: string, tag: string | undefined): Promise<void> {
    let record = await this.oci.manifests.find(this.from, reference);
    if (this.request.platform) {
      const parsed = parseManifest(await this.oci.manifests.bytes(record), record.mediaType);
      if (parsed.manifests.length > 0) {
        const [os, architecture, variant] = this.request.platform.split('/');
        const entry = parsed.manifests.find(
          (child) =>
            child.platform?.os === os &&
            child.platform?.architecture === architecture &&
            (variant === undefined || child.platform?.variant === variant),
        );
        if (!entry) {
          throw new RegistryError(
            'MANIFEST_UNKNOWN',
            `${this.from}:${reference} has no image for ${this.request.platform}`,
          );
        }
        record = await this.oci.manifests.find(this.from, entry.digest);
      }
    }
    await this.manifest(record, tag);
    this.result.images.push({ ...(tag ? { tag } : {}), digest: record.digest, mediaType: record.mediaType });
  }

  private async manifest(record: ManifestRecord, tag?: string): Promise<void> {
    const bytes = await this.oci.manifests.bytes(record);
    const parsed = parseManifest(bytes, record.mediaType);
    if (tag === undefined && (await this.present(record.digest))) {
      this.result.manifests.push({ digest: record.digest, action: 'skipped' });
    } else {
      for (const blob of parsed.blobs) await this.blob(blob.digest);
      for (const child of parsed.manifests) await this.once(child.digest);
      await this.oci.manifests.put(this.to, tag ?? record.digest, record.mediaType, bytes);
      this.result.manifests.push({ digest: record.digest, action: 'copied' });
    }
    if (this.request.withReferrers) {
      const referrers = await this.oci.listings.referrers(this.from, record.digest, undefined);
      for (const referrer of referrers.manifests) await this.once(referrer.digest);
    }
  }

  private async once(digest: string): Promise<void> {
    if (this.done.has(digest)) return;
    this.done.add(digest);
    await this.manifest(await this.oci.manifests.find(this.from, digest));
  }

  private async present(digest: string): Promise<boolean> {
    try {
      await this.oci.manifests.find(this.to, digest);
      return true;
    } catch (error) {
      if (
        error instanceof RegistryError &&
        (error.code === 'MANIFEST_UNKNOWN' || error.code === 'NAME_UNKNOWN')
      )
        return false;
      throw error;
    }
  }

  private async blob(digest: string): Promise<void> {
    if (this.done.has(digest)) return;
    this.done.add(digest);
    try {
      await this.oci.blobs.stat(this.to, digest);
      this.result.blobsSkipped++;
      return;
    } catch (error) {
      if (
        !(error instanceof RegistryError) ||
        (error.code !== 'BLOB_UNKNOWN' && error.code !== 'NAME_UNKNOWN')
      )
        throw error;
    }
    // Access to the source was checked once for the whole copy.
    const mounted = await this.oci.uploads.mount(this.to, digest, this.from, async () => true);
    if (!mounted)
      throw new RegistryError('BLOB_UNKNOWN', `blob ${digest} of ${this.from} is not in the store`);
    this.result.blobsMounted++;
  }
}
