import { execa } from 'execa';

export interface ClientResult {
  readonly exitCode: number | undefined;
  /** stdout and stderr interleaved, as a person would see them. */
  readonly all: string;
}

/** Runs a registry client (docker, podman) with only the environment given; never throws on exit codes. */
export async function runClient(
  program: string,
  args: readonly string[],
  env: Record<string, string>,
  input?: string | Buffer,
): Promise<ClientResult> {
  const result = await execa(program, args, {
    env,
    extendEnv: false,
    reject: false,
    all: true,
    timeout: 120_000,
    ...(input === undefined ? {} : { input }),
  });
  return { exitCode: result.exitCode, all: String(result.all) };
}
