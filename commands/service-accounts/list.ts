import { commonFlags, MistriveCommand } from '../../src/cli/base-command.js';
import { listServiceAccounts, type ServiceAccountList } from '../../src/cli/resources/service-accounts.js';
import { serviceAccountTable } from '../../src/cli/views.js';

export default class ServiceAccountsList extends MistriveCommand {
  static override summary = 'List the service accounts of a project.';
  static override examples = [
    '<%= config.bin %> service-accounts list --project my-project',
    '<%= config.bin %> service-accounts list --project my-project --json',
  ];
  static override flags = { project: commonFlags.project, registry: commonFlags.registry };

  async run(): Promise<ServiceAccountList> {
    const { flags } = await this.parse(ServiceAccountsList);
    const result = await listServiceAccounts(
      this.context,
      this.context.project(flags.project),
      flags.registry,
    );
    this.print(serviceAccountTable(result.serviceAccounts, this.context.io.target, result.project));
    return result;
  }
}
