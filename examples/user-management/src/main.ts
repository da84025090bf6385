/**
 * Entry point of the sample service: config from the environment, listen, and on SIGTERM/SIGINT
 * stop accepting, finish in-flight requests and exit 0 (what a rolling update expects of a pod).
 */
import { ConfigError, configFromEnv, startService } from './server';

async function main(): Promise<void> {
  const config = configFromEnv(process.env);
  const service = await startService(config);
  process.stdout.write(`user-management ${config.version} listening on ${service.url}\n`);
  process.stdout.write(
    config.tracing
      ? `tracing on: request spans to ${config.tracing.tracesUrl} as service "${config.tracing.serviceName}"\n`
      : 'tracing off (set OTEL_EXPORTER_OTLP_ENDPOINT to export request spans)\n',
  );
  let stopping = false;
  const stop = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    process.stdout.write(`${signal}: shutting down\n`);
    // Force the exit if a client holds a connection open too long.
    setTimeout(() => process.exit(0), 10_000).unref();
    service.close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}

main().catch((err: Error) => {
  process.stderr.write(`${err instanceof ConfigError ? 'config error' : 'FATAL'}: ${err.message}\n`);
  process.exit(1);
});
