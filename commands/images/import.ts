import { Args, Flags } from '@oclif/core';
import { commonFlags, MistriveCommand } from '../../src/cli/base-command.js';
import { type ImageImport, importImageFromFile } from '../../src/cli/resources/image-transfer.js';
import { importSummary } from '../../src/cli/transfer-views.js';

export default class ImagesImport extends MistriveCommand {
  static override summary =
    'Push an image from a tar archive: docker save, podman save, skopeo or OCI layout archives.';
  static override description =
    'Reads `docker save` archives and OCI image layout archives, plain or gzip-compressed (`-` reads stdin). Every digest is checked before anything is pushed: an archive with a missing manifest, a digest that does not match, a path that leaves the archive, a link, or that is cut short is refused with what is wrong, and nothing is stored. Without a tag, the image takes the tag the archive gives it, else latest. Entries are unpacked to a temporary directory (TMPDIR) while they are checked, never held in memory.';

  static override examples = [
    '<%= config.bin %> images import api.tar my-project/backend/api:v1',
    'docker save api:v1 | <%= config.bin %> images import - localhost:5000/my-project/backend/api:v1',
    '<%= config.bin %> images import api-oci.tar.gz my-project/backend/api --json',
  ];

  static override args = {
    archive: Args.string({ description: 'the archive to read, or - for stdin', required: true }),
    image: Args.string({ description: 'destination image: [HOST/]NAME[:TAG]', required: true }),
  };

  static override flags = {
    concurrency: Flags.integer({
      description: 'blobs uploaded at the same time',
      default: 4,
      min: 1,
      max: 32,
    }),
    registry: commonFlags.registry,
  };

  async run(): Promise<ImageImport> {
    const { args, flags } = await this.parse(ImagesImport);
    const result = await importImageFromFile(this.context, args.archive, args.image, {
      registry: flags.registry,
      concurrency: flags.concurrency,
      showProgress: this.interactive,
    });
    this.print(importSummary(result, this.context.io.target));
    return result;
  }
}
