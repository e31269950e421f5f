import { spawn } from 'node:child_process';

/**
 * Opens a URL in the user's browser. `MISTRIVE_BROWSER` names a program to run with the URL instead
 * (a headless browser driver in tests, a specific browser for people). Whatever happens, the caller
 * also prints the URL: on a headless machine nothing may open.
 */
export interface BrowserOpener {
  /** False when no browser could be started here. */
  open(url: string): Promise<boolean>;
}

export function browserOpener(env: NodeJS.ProcessEnv): BrowserOpener {
  const launcher = env.MISTRIVE_BROWSER;
  if (launcher) return { open: (url) => launch(launcher, url) };
  return { open: (url) => openWithSystem(url, env) };
}

/** Runs the launcher with the URL, in the background; true once it started. */
function launch(program: string, url: string): Promise<boolean> {
  return new Promise((resolve) => {
    const child = spawn(program, [url], { stdio: ['ignore', 'ignore', 'inherit'], detached: false });
    child.once('error', () => resolve(false));
    child.once('spawn', () => {
      child.unref();
      resolve(true);
    });
  });
}

/** The desktop's way to open a URL, through `open`; false on a Linux box with no display. */
async function openWithSystem(url: string, env: NodeJS.ProcessEnv): Promise<boolean> {
  if (process.platform === 'linux' && !env.DISPLAY && !env.WAYLAND_DISPLAY) return false;
  try {
    const { default: open } = await import('open');
    const child = await open(url);
    return await new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => resolve(true), 2000);
      timer.unref();
      child.once('error', () => {
        clearTimeout(timer);
        resolve(false);
      });
      child.once('exit', (code) => {
        clearTimeout(timer);
        resolve(code === 0 || code === null);
      });
    });
  } catch {
    return false;
  }
}
