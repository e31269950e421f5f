import { Args, Flags } from '@oclif/core';
import { commonFlags, MistriveCommand } from '../../src/cli/base-command.js';
import { copyImage, type ImageCopy } from '../../src/cli/resources/image-transfer.js';
import { copySummary } from '../../src/cli/transfer-views.js';

export default class ImagesCopy extends MistriveCommand {
  static override summary = 'Copy an image (or every tag of a repository) within a registry or between two.';
  static override description =
    'Copies manifests byte for byte, so digests are the same at the destination. An index is copied with every platform unless --platform picks one. Within one registry, blobs are mounted from the source repository and never uploaded again; between registries they are streamed from one to the other, several at a time, and those the destination has are skipped, so running an interrupted copy again finishes it. A Mistrive registry the CLI is signed in to is reached with that account; any other registry with the credentials of the Docker config (~/.docker/config.json: credHelpers, auths, credsStore). A reference without a host is on the configured registry; Docker Hub is docker.io/NAME. Needs read access to the source and write access (editor) to the destination.';

  static override examples = [
    '<%= config.bin %> images copy my-project/backend/api:v1 my-project/releases/api:v1',
    '<%= config.bin %> images copy docker.io/library/alpine:3.20 localhost:5000/my-project/mirror/alpine:3.20',
    '<%= config.bin %> images copy localhost:5000/my-project/backend/api registry.example.com/team/api --all-tags',
    '<%= config.bin %> images copy my-project/backend/api:v1 my-project/backend/api-amd64:v1 --platform linux/amd64',
    '<%= config.bin %> images copy my-project/backend/api:v1 my-project/releases/api:v1 --with-referrers --json',
  ];

  static override args = {
    source: Args.string({ description: 'source image: [HOST/]NAME[:TAG|@DIGEST]', required: true }),
    destination: Args.string({
      description: 'destination: [HOST/]NAME[:TAG] (without a tag, the source tag is kept)',
      required: true,
    }),
  };

  static override flags = {
    'all-tags': Flags.boolean({ description: 'copy every tag of the source repository' }),
    platform: Flags.string({ description: 'copy only this platform of an index: OS/ARCH[/VARIANT]' }),
    'with-referrers': Flags.boolean({
      description: 'also copy the manifests that refer to the copied ones (signatures, SBOMs, attestations)',
    }),
    concurrency: Flags.integer({ description: 'blobs moved at the same time', default: 4, min: 1, max: 32 }),
    registry: commonFlags.registry,
  };

  async run(): Promise<ImageCopy> {
    const { args, flags } = await this.parse(ImagesCopy);
    const result = await copyImage(this.context, args.source, args.destination, {
      registry: flags.registry,
      platform: flags.platform,
      concurrency: flags.concurrency,
      allTags: flags['all-tags'],
      withReferrers: flags['with-referrers'],
      showProgress: this.interactive,
    });
    this.print(copySummary(result, this.context.io.target));
    return result;
  }
}
