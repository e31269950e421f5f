import { Args } from '@oclif/core';
import { MistriveCommand } from '../../src/cli/base-command.js';
import { settingNames } from '../../src/cli/config.js';
import { renderMessage } from '../../src/cli/render.js';
import { type Setting, setSetting } from '../../src/cli/settings.js';

export default class ConfigSet extends MistriveCommand {
  static override summary = 'Change a setting.';
  static override description =
    `Settings: registry (the registry commands talk to, a URL or HOST:PORT), project (the project used when --project is not given).`;
  static override examples = [
    '<%= config.bin %> config set registry localhost:5000',
    '<%= config.bin %> config set registry https://registry.example.com',
    '<%= config.bin %> config set project my-project',
  ];

  static override args = {
    name: Args.string({ description: 'the setting', required: true, options: settingNames }),
    value: Args.string({ description: 'its new value', required: true }),
  };

  async run(): Promise<Setting> {
    const { args } = await this.parse(ConfigSet);
    const result = setSetting(this.context, args.name, args.value);
    this.print(renderMessage(`Set ${result.name} to ${result.value}.`, this.context.io.target, 'success'));
    return result;
  }
}
