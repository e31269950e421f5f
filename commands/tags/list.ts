import { Args } from '@oclif/core';
import { commonFlags, MistriveCommand } from '../../src/cli/base-command.js';
import { listTags, type TagList } from '../../src/cli/resources/images.js';
import { tagTable } from '../../src/cli/views.js';

export default class TagsList extends MistriveCommand {
  static override summary = 'List the tags of an image and the digest each points at.';
  static override examples = [
    '<%= config.bin %> tags list my-project/backend/api',
    '<%= config.bin %> tags list localhost:5000/my-project/backend/api --json',
  ];
  static override args = {
    image: Args.string({ description: 'image: [HOST/]PROJECT/REPOSITORY/IMAGE', required: true }),
  };

  static override flags = { registry: commonFlags.registry };

  async run(): Promise<TagList> {
    const { args, flags } = await this.parse(TagsList);
    const result = await listTags(this.context, args.image, flags.registry);
    this.print(tagTable(result, this.context.io.target));
    return result;
  }
}
