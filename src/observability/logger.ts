/**
 * Structured JSON logs for the worker (pino), and the adapter that makes pino the Temporal
 * Runtime's logger, so activity and workflow logs carry workflowId, runId and activityId.
 */
import pino from 'pino';
import type { DestinationStream, Logger as PinoLogger } from 'pino';
import type { LogLevel, LogMetadata, Logger as TemporalLogger } from '@temporalio/common';

export type { PinoLogger };

export interface LoggerOptions {
  /** pino level; default LOG_LEVEL or "info". */
  level?: string;
  /** Where the JSON lines go; default stdout. Tests pass a stream to read them back. */
  destination?: DestinationStream;
  /** Fields on every line, e.g. { service: 'shipwatch-worker' }. */
  base?: Record<string, unknown>;
}

export function createLogger(options: LoggerOptions = {}): PinoLogger {
  return pino(
    {
      level: options.level ?? process.env.LOG_LEVEL ?? 'info',
      base: { service: 'shipwatch-worker', pid: process.pid, ...options.base },
      timestamp: pino.stdTimeFunctions.isoTime,
      // "level":"info" rather than a number: what log shippers and people grep for.
      formatters: { level: (label) => ({ level: label }) },
    },
    options.destination,
  );
}

const PINO_LEVEL: Record<LogLevel, 'trace' | 'debug' | 'info' | 'warn' | 'error'> = {
  TRACE: 'trace',
  DEBUG: 'debug',
  INFO: 'info',
  WARN: 'warn',
  ERROR: 'error',
};

/** The SDK's metadata with its non-JSON parts (symbol keys, bigints, errors) made loggable. */
function plainMeta(meta: LogMetadata | undefined): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  if (!meta) return out;
  for (const [key, value] of Object.entries(meta)) {
    if (typeof value === 'bigint') out[key] = value.toString();
    else if (value instanceof Error) out[key === 'error' ? 'err' : key] = value;
    else out[key] = value;
  }
  return out;
}

/** A Temporal `Logger` writing through pino: give it to `Runtime.install({ logger })`. */
export class PinoTemporalLogger implements TemporalLogger {
  constructor(private readonly logger: PinoLogger) {}

  log(level: LogLevel, message: string, meta?: LogMetadata): void {
    this.logger[PINO_LEVEL[level] ?? 'info'](plainMeta(meta), message);
  }
  trace(message: string, meta?: LogMetadata): void {
    this.log('TRACE', message, meta);
  }
  debug(message: string, meta?: LogMetadata): void {
    this.log('DEBUG', message, meta);
  }
  info(message: string, meta?: LogMetadata): void {
    this.log('INFO', message, meta);
  }
  warn(message: string, meta?: LogMetadata): void {
    this.log('WARN', message, meta);
  }
  error(message: string, meta?: LogMetadata): void {
    this.log('ERROR', message, meta);
  }
}
