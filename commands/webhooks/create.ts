import { Flags } from '@oclif/core';
import { commonFlags, MistriveCommand } from '../../src/cli/base-command.js';
import { readAllStdin } from '../../src/cli/io.js';
import { createWebhook, parseEvents, type WebhookCreated } from '../../src/cli/resources/webhooks.js';
import { createdWebhookDetails } from '../../src/cli/webhook-views.js';

export default class WebhooksCreate extends MistriveCommand {
  static override summary = 'Register a webhook: the registry POSTs signed events of a project to a URL.';
  static override description =
    'Events: push, delete, scan (a vulnerability scan finished). Each delivery is signed with HMAC-SHA256; the secret is generated and shown this once, or read from stdin with --secret-stdin. Needs Artifact Store Owner on the project.';

  static override examples = [
    '<%= config.bin %> webhooks create --project my-project --url https://ci.example.com/hooks/registry --events push,delete,scan',
    'printf %s "$WEBHOOK_SECRET" | <%= config.bin %> webhooks create --project my-project --url https://ci.example.com/hooks --events push --secret-stdin',
  ];

  static override flags = {
    project: commonFlags.project,
    url: Flags.string({ description: 'where deliveries are POSTed (http:// or https://)', required: true }),
    events: Flags.string({
      description: 'comma-separated events: push, delete, scan',
      default: 'push,delete,scan',
    }),
    'secret-stdin': Flags.boolean({
      description: 'read the signing secret (at least 16 characters) from stdin instead of generating one',
    }),
    registry: commonFlags.registry,
  };

  async run(): Promise<WebhookCreated> {
    const { flags } = await this.parse(WebhooksCreate);
    const events = parseEvents(flags.events);
    const secret = flags['secret-stdin'] ? await readAllStdin(this.context.io) : undefined;
    const result = await createWebhook(this.context, {
      project: this.context.project(flags.project),
      url: flags.url,
      events,
      ...(secret === undefined ? {} : { secret }),
      registry: flags.registry,
    });
    this.print(createdWebhookDetails(result, this.context.io.target));
    return result;
  }
}
