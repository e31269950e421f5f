import { MistriveCommand } from '../../src/cli/base-command.js';
import { renderTable } from '../../src/cli/render.js';
import { listSettings, type SettingList } from '../../src/cli/settings.js';

export default class ConfigList extends MistriveCommand {
  static override summary = 'List the settings and their values.';
  static override examples = ['<%= config.bin %> config list', '<%= config.bin %> config list --json'];

  async run(): Promise<SettingList> {
    await this.parse(ConfigList);
    const result = listSettings(this.context);
    const target = this.context.io.target;
    this.print(
      renderTable(
        [
          { header: 'Name', value: (row) => row.name },
          { header: 'Value', value: (row) => row.value ?? (target.tty ? '(unset)' : '') },
          ...(target.tty
            ? [{ header: 'Description', value: (row: SettingList['settings'][number]) => row.description }]
            : []),
        ],
        result.settings,
        target,
      ),
    );
    return result;
  }
}
