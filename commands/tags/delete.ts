import { Args } from '@oclif/core';
import { commonFlags, MistriveCommand } from '../../src/cli/base-command.js';
import { renderMessage } from '../../src/cli/render.js';
import { deleteTag, type TagDeleted } from '../../src/cli/resources/images.js';

export default class TagsDelete extends MistriveCommand {
  static override summary = 'Delete a tag; the digest it pointed at stays.';
  static override description =
    'Needs the owner role on the repository; refused in a repository with immutable tags.';
  static override examples = [
    '<%= config.bin %> tags delete my-project/backend/api:old',
    '<%= config.bin %> tags delete localhost:5000/my-project/backend/api:rc1 --json',
  ];
  static override args = {
    image: Args.string({ description: 'IMAGE:TAG, e.g. my-project/backend/api:old', required: true }),
  };
  static override flags = { registry: commonFlags.registry };

  async run(): Promise<TagDeleted> {
    const { args, flags } = await this.parse(TagsDelete);
    const result = await deleteTag(this.context, args.image, flags.registry);
    this.print(
      renderMessage(`Deleted tag ${result.tag} of ${result.image}.`, this.context.io.target, 'success'),
    );
    return result;
  }
}
