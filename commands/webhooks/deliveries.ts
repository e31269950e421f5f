import { Args } from '@oclif/core';
import { commonFlags, MistriveCommand } from '../../src/cli/base-command.js';
import { type DeliveryList, listDeliveries } from '../../src/cli/resources/webhooks.js';
import { deliveryTable } from '../../src/cli/webhook-views.js';

export default class WebhooksDeliveries extends MistriveCommand {
  static override summary = "List a webhook's deliveries, newest first, with their outcomes.";
  static override description =
    'Each delivery shows its status (pending, delivering, succeeded, failed), the attempts made and the last outcome: the status code the receiver answered, or why no answer came.';
  static override examples = [
    '<%= config.bin %> webhooks deliveries 0b5e…-4c1f --project my-project',
    '<%= config.bin %> webhooks deliveries 0b5e…-4c1f --project my-project --json',
  ];
  static override args = { webhook: Args.string({ description: 'the webhook ID', required: true }) };
  static override flags = { project: commonFlags.project, registry: commonFlags.registry };

  async run(): Promise<DeliveryList> {
    const { args, flags } = await this.parse(WebhooksDeliveries);
    const result = await listDeliveries(
      this.context,
      this.context.project(flags.project),
      args.webhook,
      flags.registry,
    );
    this.print(deliveryTable(result, this.context.io.target));
    return result;
  }
}
