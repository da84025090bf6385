/** Who runs the CLI, named in the timeline, the report and notifications. */
import { userInfo } from 'node:os';

/** SHIPWATCH_USER, else USER, else the operating system's account name, else "unknown". */
export function currentUser(env: NodeJS.ProcessEnv = process.env): string {
  return env.SHIPWATCH_USER ?? env.USER ?? accountName();
}

function accountName(): string {
  try {
    return userInfo().username;
  } catch {
    return 'unknown';
  }
}
