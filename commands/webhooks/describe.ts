import { Args } from '@oclif/core';
import { commonFlags, MistriveCommand } from '../../src/cli/base-command.js';
import { describeWebhook } from '../../src/cli/resources/webhooks.js';
import { webhookDetails } from '../../src/cli/webhook-views.js';
import type { Webhook } from '../../src/client/webhooks-api.js';

export default class WebhooksDescribe extends MistriveCommand {
  static override summary = 'Show a webhook (never its secret).';
  static override examples = ['<%= config.bin %> webhooks describe 0b5e…-4c1f --project my-project'];
  static override args = { webhook: Args.string({ description: 'the webhook ID', required: true }) };
  static override flags = { project: commonFlags.project, registry: commonFlags.registry };

  async run(): Promise<Webhook> {
    const { args, flags } = await this.parse(WebhooksDescribe);
    const result = await describeWebhook(
      this.context,
      this.context.project(flags.project),
      args.webhook,
      flags.registry,
    );
    this.print(webhookDetails(result, this.context.io.target));
    return result;
  }
}
