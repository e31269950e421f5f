import { Args } from '@oclif/core';
import { commonFlags, MistriveCommand } from '../../src/cli/base-command.js';
import { renderMessage } from '../../src/cli/render.js';
import { addTags, type TagsAdded } from '../../src/cli/resources/images.js';

export default class TagsAdd extends MistriveCommand {
  static override summary = 'Point tags at the digest an image reference names.';
  static override description =
    'The source names a digest directly (@sha256:…) or through a tag. A tag that exists is moved, unless the repository has immutable tags. Needs the editor role on the repository.';

  static override examples = [
    '<%= config.bin %> tags add my-project/backend/api:v1.2.3 stable latest',
    '<%= config.bin %> tags add localhost:5000/my-project/backend/api@sha256:4c1f… v1.2.3',
  ];

  static override args = {
    source: Args.string({
      description: 'image with a tag or digest: [HOST/]PROJECT/REPOSITORY/IMAGE:TAG or @DIGEST',
      required: true,
    }),
    tags: Args.string({
      description: 'the tags to add (TAG, or IMAGE:TAG of the same image)',
      required: true,
      multiple: true,
    }),
  };

  static override flags = { registry: commonFlags.registry };

  async run(): Promise<TagsAdded> {
    const { args, flags } = await this.parse(TagsAdd);
    const result = await addTags(this.context, args.source, args.tags, flags.registry);
    this.print(
      renderMessage(
        `Tagged ${result.image}@${result.digest} as ${result.tags.map((tag) => tag.name).join(', ')}.`,
        this.context.io.target,
        'success',
      ),
    );
    return result;
  }
}
