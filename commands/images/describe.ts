import { Args } from '@oclif/core';
import { commonFlags, MistriveCommand } from '../../src/cli/base-command.js';
import { describeImage, type ImageDescription } from '../../src/cli/resources/images.js';
import { imageDetails } from '../../src/cli/views.js';

export default class ImagesDescribe extends MistriveCommand {
  static override summary = 'Show an image: its digests, tags, sizes and creation times.';
  static override description =
    'With a tag or digest, shows that one manifest (with its platforms for an index).';
  static override examples = [
    '<%= config.bin %> images describe my-project/backend/api',
    '<%= config.bin %> images describe localhost:5000/my-project/backend/api:v1.2.3',
    '<%= config.bin %> images describe my-project/backend/api@sha256:4c1f… --json',
  ];

  static override args = {
    image: Args.string({
      description: 'image reference: [HOST/]PROJECT/REPOSITORY/IMAGE[:TAG|@DIGEST]',
      required: true,
    }),
  };

  static override flags = { registry: commonFlags.registry };

  async run(): Promise<ImageDescription> {
    const { args, flags } = await this.parse(ImagesDescribe);
    const result = await describeImage(this.context, args.image, flags.registry);
    this.print(imageDetails(result, this.context.io.target));
    return result;
  }
}
