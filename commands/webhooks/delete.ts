import { Args } from '@oclif/core';
import { commonFlags, MistriveCommand } from '../../src/cli/base-command.js';
import { renderMessage } from '../../src/cli/render.js';
import { deleteWebhook, type WebhookDeleted } from '../../src/cli/resources/webhooks.js';

export default class WebhooksDelete extends MistriveCommand {
  static override summary = 'Delete a webhook and its delivery records.';
  static override description =
    'Deliveries still queued are not sent. Asks first on a terminal, unless --yes.';
  static override examples = ['<%= config.bin %> webhooks delete 0b5e…-4c1f --project my-project --yes'];
  static override args = { webhook: Args.string({ description: 'the webhook ID', required: true }) };
  static override flags = {
    project: commonFlags.project,
    yes: commonFlags.yes,
    registry: commonFlags.registry,
  };

  async run(): Promise<WebhookDeleted> {
    const { args, flags } = await this.parse(WebhooksDelete);
    const project = this.context.project(flags.project);
    await this.confirmDeletion(`webhook ${args.webhook} and its delivery records`, flags.yes);
    const result = await deleteWebhook(this.context, project, args.webhook, flags.registry);
    this.print(renderMessage(`Deleted webhook ${result.webhook}.`, this.context.io.target, 'success'));
    return result;
  }
}
