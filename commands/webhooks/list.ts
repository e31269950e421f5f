import { commonFlags, MistriveCommand } from '../../src/cli/base-command.js';
import { listWebhooks, type WebhookList } from '../../src/cli/resources/webhooks.js';
import { webhookTable } from '../../src/cli/webhook-views.js';

export default class WebhooksList extends MistriveCommand {
  static override summary = 'List the webhooks of a project.';
  static override examples = [
    '<%= config.bin %> webhooks list --project my-project',
    '<%= config.bin %> webhooks list --project my-project --json',
  ];
  static override flags = { project: commonFlags.project, registry: commonFlags.registry };

  async run(): Promise<WebhookList> {
    const { flags } = await this.parse(WebhooksList);
    const result = await listWebhooks(this.context, this.context.project(flags.project), flags.registry);
    this.print(webhookTable(result.webhooks, this.context.io.target, result.project));
    return result;
  }
}
