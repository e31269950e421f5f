import { Args } from '@oclif/core';
import { commonFlags, MistriveCommand } from '../../src/cli/base-command.js';
import { renderMessage } from '../../src/cli/render.js';
import { redeliver } from '../../src/cli/resources/webhooks.js';
import type { WebhookDelivery } from '../../src/client/webhooks-api.js';

export default class WebhooksRedeliver extends MistriveCommand {
  static override summary = 'Send a delivery again.';
  static override description =
    'Queues a new delivery with the same body (the event keeps its id, so a receiver can tell a redelivery) and a fresh signature.';
  static override examples = ['<%= config.bin %> webhooks redeliver 7d21…-9a0e --project my-project'];
  static override args = { delivery: Args.string({ description: 'the delivery ID', required: true }) };
  static override flags = { project: commonFlags.project, registry: commonFlags.registry };

  async run(): Promise<WebhookDelivery> {
    const { args, flags } = await this.parse(WebhooksRedeliver);
    const result = await redeliver(
      this.context,
      this.context.project(flags.project),
      args.delivery,
      flags.registry,
    );
    this.print(
      renderMessage(
        `Queued delivery ${result.id} (a redelivery of ${args.delivery}); see \`mistrive webhooks deliveries ${result.webhook}\`.`,
        this.context.io.target,
        'success',
      ),
    );
    return result;
  }
}
