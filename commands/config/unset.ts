import { Args } from '@oclif/core';
import { MistriveCommand } from '../../src/cli/base-command.js';
import { settingNames } from '../../src/cli/config.js';
import { renderMessage } from '../../src/cli/render.js';
import { type Setting, unsetSetting } from '../../src/cli/settings.js';

export default class ConfigUnset extends MistriveCommand {
  static override summary = 'Remove a setting, going back to its default.';
  static override examples = ['<%= config.bin %> config unset project'];

  static override args = {
    name: Args.string({ description: 'the setting', required: true, options: settingNames }),
  };

  async run(): Promise<Setting> {
    const { args } = await this.parse(ConfigUnset);
    const result = unsetSetting(this.context, args.name);
    this.print(renderMessage(`Unset ${result.name}.`, this.context.io.target, 'success'));
    return result;
  }
}
