import { Args } from '@oclif/core';
import { commonFlags, MistriveCommand } from '../../src/cli/base-command.js';
import { renderMessage } from '../../src/cli/render.js';
import { deleteImage, type ImageDeleted } from '../../src/cli/resources/images.js';

export default class ImagesDelete extends MistriveCommand {
  static override summary = 'Delete an image, or one of its digests.';
  static override description =
    'Without a tag or digest, deletes the whole image: every digest and tag. With @DIGEST, or :TAG (the digest the tag points at), deletes that manifest and the tags pointing at it. Needs the owner role on the repository; refused for tagged content in a repository with immutable tags. Asks first on a terminal, unless --yes.';

  static override examples = [
    '<%= config.bin %> images delete my-project/backend/api@sha256:4c1f…',
    '<%= config.bin %> images delete localhost:5000/my-project/backend/api:old --yes',
    '<%= config.bin %> images delete my-project/backend/api --yes',
  ];

  static override args = {
    image: Args.string({
      description: 'image reference: [HOST/]PROJECT/REPOSITORY/IMAGE[:TAG|@DIGEST]',
      required: true,
    }),
  };

  static override flags = { yes: commonFlags.yes, registry: commonFlags.registry };

  async run(): Promise<ImageDeleted> {
    const { args, flags } = await this.parse(ImagesDelete);
    await this.confirmDeletion(args.image, flags.yes);
    const result = await deleteImage(this.context, args.image, flags.registry);
    const count = result.deleted.length;
    this.print(
      renderMessage(
        `Deleted ${result.reference} (${count} digest${count === 1 ? '' : 's'}).`,
        this.context.io.target,
        'success',
      ),
    );
    return result;
  }
}
