/**
 * Temporal connection settings, the way every Temporal tool reads them: TEMPORAL_ADDRESS,
 * TEMPORAL_NAMESPACE, TEMPORAL_API_KEY, TEMPORAL_TLS_* and the TOML profile (TEMPORAL_PROFILE,
 * TEMPORAL_CONFIG_FILE). Defaults to the local dev server that `npm run temporal` starts.
 */
import { loadClientConnectConfig } from '@temporalio/envconfig';
import type { NativeConnectionOptions } from '@temporalio/worker';

export interface TemporalSettings {
  connectionOptions: NativeConnectionOptions;
  address: string;
  namespace: string;
}

export const DEFAULT_ADDRESS = '127.0.0.1:7233';

export function temporalSettings(env: NodeJS.ProcessEnv = process.env): TemporalSettings {
  const config = loadClientConnectConfig({
    ...(env.TEMPORAL_PROFILE ? { profile: env.TEMPORAL_PROFILE } : {}),
    overrideEnvVars: Object.fromEntries(
      Object.entries(env).filter((entry): entry is [string, string] => entry[1] !== undefined),
    ),
  });
  const address = config.connectionOptions.address ?? DEFAULT_ADDRESS;
  return {
    connectionOptions: { ...config.connectionOptions, address },
    address,
    namespace: config.namespace ?? 'default',
  };
}
