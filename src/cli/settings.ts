import { isSettingName, type SettingName, settingNames, settings } from './config.js';
import type { CliContext } from './context.js';
import { CliError } from './errors.js';

/** `config get|set|unset|list`: the CLI's plain settings. */

export interface Setting {
  readonly name: SettingName;
  readonly value: string | null;
}

export interface SettingList {
  readonly path: string;
  readonly settings: (Setting & { readonly description: string })[];
}

function settingName(name: string): SettingName {
  if (!isSettingName(name)) {
    throw new CliError('USAGE', `there is no setting "${name}"`, {
      hint: `the settings are ${settingNames.join(', ')}`,
    });
  }
  return name;
}

export function getSetting(context: CliContext, name: string): Setting {
  const setting = settingName(name);
  return { name: setting, value: context.config.get(setting) ?? null };
}

export function setSetting(context: CliContext, name: string, value: string): Setting {
  const setting = settingName(name);
  return { name: setting, value: context.config.set(setting, value) };
}

export function unsetSetting(context: CliContext, name: string): Setting {
  const setting = settingName(name);
  context.config.unset(setting);
  return { name: setting, value: null };
}

export function listSettings(context: CliContext): SettingList {
  return {
    path: context.config.path,
    settings: settingNames.map((name) => ({
      name,
      value: context.config.get(name) ?? null,
      description: settings[name].description,
    })),
  };
}
