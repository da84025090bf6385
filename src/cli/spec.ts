/** Loading a deploy spec for a command: every problem becomes a USAGE exit that names each bad field. */
import { loadSpecFile, SpecError } from '../spec/load';
import type { SpecOverrides } from '../spec/load';
import type { DeploySpec } from '../spec/types';
import { ExitCode, ExitError } from './errors';
import { messages } from './messages';

export async function loadSpecOrExit(file: string, overrides: SpecOverrides = {}): Promise<DeploySpec> {
  try {
    return await loadSpecFile(file, overrides);
  } catch (err) {
    if (err instanceof SpecError) throw new ExitError(ExitCode.USAGE, messages.specInvalid(err.message));
    throw err;
  }
}
