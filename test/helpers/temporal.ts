/**
 * Starts real Temporal servers for tests, from the tools built under tools/ (no downloads):
 * the time-skipping Java test server and the Temporal CLI dev server with its Web UI.
 */
import { TestWorkflowEnvironment } from '@temporalio/testing';
import type { SearchAttributeKey, SearchAttributeType } from '@temporalio/common/lib/search-attributes';
import { devServerDynamicConfigArgs } from '../../tools/local/temporal';
import { ensureTool } from '../../tools/local/tools';

/** A time-skipping environment: `env.sleep` and workflow timers jump ahead instead of waiting. */
export async function createTimeSkippingEnv(): Promise<TestWorkflowEnvironment> {
  return TestWorkflowEnvironment.createTimeSkipping({
    server: { executable: { type: 'existing-path', path: ensureTool('temporal-test-server') } },
  });
}

export interface LocalEnvOptions {
  ui?: boolean;
  uiPort?: number;
  dbFilename?: string;
  searchAttributes?: SearchAttributeKey<SearchAttributeType>[];
}

/** A real dev server (the same binary and dynamic config `npm run temporal` runs), on 127.0.0.1 and a free port. */
export async function createLocalEnv(options: LocalEnvOptions = {}): Promise<TestWorkflowEnvironment> {
  return TestWorkflowEnvironment.createLocal({
    server: {
      executable: { type: 'existing-path', path: ensureTool('temporal-cli') },
      ip: '127.0.0.1',
      ...(options.ui !== undefined ? { ui: options.ui } : {}),
      ...(options.uiPort !== undefined ? { uiPort: options.uiPort } : {}),
      ...(options.dbFilename ? { dbFilename: options.dbFilename } : {}),
      ...(options.searchAttributes ? { searchAttributes: options.searchAttributes } : {}),
      log: { format: 'pretty', level: 'error' },
      extraArgs: devServerDynamicConfigArgs(),
    },
  });
}
