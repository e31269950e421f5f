import { Args, Flags } from '@oclif/core';
import { commonFlags, MistriveCommand } from '../../src/cli/base-command.js';
import { exportImageToFile, type ImageExport } from '../../src/cli/resources/image-transfer.js';
import { exportSummary } from '../../src/cli/transfer-views.js';

export default class ImagesExport extends MistriveCommand {
  static override summary = 'Write an image to a tar archive: the docker save format or an OCI image layout.';
  static override description =
    '--format docker (the default) writes what `docker save` writes, for `docker load` and `podman load`; it holds one platform, so an index needs --platform. --format oci writes an OCI image layout archive (oci-layout, index.json, blobs/sha256/…) with every platform of an index, for `skopeo copy oci-archive:FILE …` and `podman load`. Blobs are streamed from the registry into the archive and checked against their digests. `-o -` writes the archive to stdout.';

  static override examples = [
    '<%= config.bin %> images export my-project/backend/api:v1 -o api.tar',
    '<%= config.bin %> images export my-project/backend/api:v1 -o api-oci.tar --format oci',
    '<%= config.bin %> images export my-project/backend/api:v1 --platform linux/arm64 -o - | docker load',
  ];

  static override args = {
    image: Args.string({ description: 'image: [HOST/]NAME[:TAG|@DIGEST]', required: true }),
  };

  static override flags = {
    output: Flags.string({ char: 'o', description: 'the archive to write, or - for stdout', required: true }),
    format: Flags.string({ description: 'archive format', options: ['docker', 'oci'], default: 'docker' }),
    platform: Flags.string({ description: 'the platform of an index to export: OS/ARCH[/VARIANT]' }),
    registry: commonFlags.registry,
  };

  async run(): Promise<ImageExport> {
    const { args, flags } = await this.parse(ImagesExport);
    const result = await exportImageToFile(this.context, args.image, flags.output, {
      registry: flags.registry,
      platform: flags.platform,
      format: flags.format as 'docker' | 'oci',
      concurrency: 1,
      showProgress: this.interactive,
    });
    // The archive itself may be on stdout: the summary goes to stderr then.
    if (flags.output === '-') {
      if (!this.jsonEnabled()) this.context.notice(exportSummary(result, this.context.io.target).trimEnd());
      return result;
    }
    this.print(exportSummary(result, this.context.io.target));
    return result;
  }
}
