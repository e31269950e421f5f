import { Args, Flags } from '@oclif/core';
import { commonFlags, MistriveCommand } from '../../src/cli/base-command.js';
import { type ImageList, listImages } from '../../src/cli/resources/images.js';
import { imageTable } from '../../src/cli/views.js';

export default class ImagesList extends MistriveCommand {
  static override summary = 'List the images of a repository, one line per digest.';
  static override examples = [
    '<%= config.bin %> images list backend --project my-project',
    '<%= config.bin %> images list localhost:5000/my-project/backend --untagged',
    '<%= config.bin %> images list my-project/backend --json',
  ];

  static override args = {
    repository: Args.string({
      description: 'repository: ID (with --project), PROJECT/REPOSITORY or HOST/PROJECT/REPOSITORY',
      required: true,
    }),
  };

  static override flags = {
    project: commonFlags.project,
    untagged: Flags.boolean({ description: 'only digests no tag points at' }),
    registry: commonFlags.registry,
  };

  async run(): Promise<ImageList> {
    const { args, flags } = await this.parse(ImagesList);
    const result = await listImages(this.context, args.repository, {
      project: flags.project,
      registry: flags.registry,
      untagged: flags.untagged,
    });
    this.print(imageTable(result, this.context.io.target, flags.untagged));
    return result;
  }
}
