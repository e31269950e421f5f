import { Args, Flags } from '@oclif/core';
import { commonFlags, MistriveCommand } from '../../src/cli/base-command.js';
import { renderMessage } from '../../src/cli/render.js';
import {
  deleteImage,
  describeDeletion,
  type ImageDeleted,
  planImageDeletion,
} from '../../src/cli/resources/images.js';

export default class ImagesDelete extends MistriveCommand {
  static override summary = 'Delete an image, or one of its digests with the tags pointing at it.';
  static override description =
    'Without a tag or digest, deletes the whole image: every digest and tag. With @DIGEST (a unique prefix of at least 12 hex digits will do), or :TAG (the digest the tag points at), deletes that manifest and every tag pointing at it: when other tags point at it too, it is refused unless --delete-tags says they may go (`tags delete IMAGE:TAG` removes one tag and keeps the digest). The confirmation and the result name every tag deleted. Needs the owner role on the repository; refused for tagged content in a repository with immutable tags. Asks first on a terminal, unless --yes.';

  static override examples = [
    '<%= config.bin %> images delete my-project/backend/api@sha256:4c1f…',
    '<%= config.bin %> images delete localhost:5000/my-project/backend/api:old --yes',
    '<%= config.bin %> images delete my-project/backend/api:v1 --delete-tags',
    '<%= config.bin %> images delete my-project/backend/api --yes',
  ];

  static override args = {
    image: Args.string({
      description: 'image reference: [HOST/]PROJECT/REPOSITORY/IMAGE[:TAG|@DIGEST]',
      required: true,
    }),
  };

  static override flags = {
    'delete-tags': Flags.boolean({
      description:
        'also delete the other tags pointing at the digest (otherwise their presence refuses the deletion)',
    }),
    yes: commonFlags.yes,
    registry: commonFlags.registry,
  };

  async run(): Promise<ImageDeleted> {
    const { args, flags } = await this.parse(ImagesDelete);
    const plan = await planImageDeletion(this.context, args.image, {
      registry: flags.registry,
      deleteTags: flags['delete-tags'],
    });
    const what = describeDeletion(plan);
    await this.confirmDeletion(what, flags.yes);
    const result = await deleteImage(plan);
    this.print(renderMessage(`Deleted ${what}.`, this.context.io.target, 'success'));
    return result;
  }
}
