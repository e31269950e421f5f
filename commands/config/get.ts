import { Args } from '@oclif/core';
import { MistriveCommand } from '../../src/cli/base-command.js';
import { settingNames } from '../../src/cli/config.js';
import { getSetting, type Setting } from '../../src/cli/settings.js';

export default class ConfigGet extends MistriveCommand {
  static override summary = 'Print a setting.';
  static override description =
    `Prints the value, or nothing when it is not set. Settings: ${settingNames.join(', ')}.`;
  static override examples = [
    '<%= config.bin %> config get registry',
    '<%= config.bin %> config get project --json',
  ];

  static override args = {
    name: Args.string({ description: 'the setting', required: true, options: settingNames }),
  };

  async run(): Promise<Setting> {
    const { args } = await this.parse(ConfigGet);
    const result = getSetting(this.context, args.name);
    if (result.value !== null) this.print(`${result.value}\n`);
    return result;
  }
}
