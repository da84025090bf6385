/**
 * The sample service's error tracking: events sent to the tracker behind a Sentry DSN
 * (SENTRY_DSN, https://KEY@host/PROJECT) through Sentry's store API, tagged with the service's
 * release. The service reports its internal errors, and `GET /debug/error-tracking` (the route
 * Sentry's docs have services add to verify an installation) reports a test event on demand and
 * answers with what the tracker said — what shipwatch's "Error tracking" check calls.
 */
import { randomUUID } from 'node:crypto';

export interface ErrorTrackingConfig {
  dsn: string;
  /** `release` of every event: "<service>@<version>". */
  release: string;
  /** `environment` of every event (SENTRY_ENVIRONMENT; default "production"). */
  environment: string;
}

/** What the tracker said about one event. */
export type Delivery = { eventId: string; accepted: true; status: number } | { eventId: string; accepted: false; status?: number; error: string };

export interface ErrorReporter {
  report(event: { level: 'info' | 'error'; message: string; tags?: Record<string, string> }): Promise<Delivery>;
}

/** The DSN's store endpoint and key; a DSN that is not one is a configuration error, said at start-up. */
export function parseDsn(dsn: string): { store: string; key: string } {
  let url: URL;
  try {
    url = new URL(dsn);
  } catch {
    throw new Error('SENTRY_DSN is not a URL (expected https://KEY@host/PROJECT)');
  }
  const project = url.pathname.replace(/^\/+|\/+$/g, '').split('/').pop();
  if (!url.username || !project) throw new Error(`SENTRY_DSN for ${url.host} has no key or project (expected https://KEY@host/PROJECT)`);
  const prefix = url.pathname.replace(/\/?[^/]*\/?$/, '');
  return { store: `${url.protocol}//${url.host}${prefix}/api/${project}/store/`, key: url.username };
}

export function createErrorReporter(config: ErrorTrackingConfig): ErrorReporter {
  const { store, key } = parseDsn(config.dsn);
  return {
    async report(event) {
      const eventId = randomUUID().replace(/-/g, '');
      try {
        const res = await fetch(store, {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'x-sentry-auth': `Sentry sentry_version=7, sentry_client=user-management/1, sentry_key=${key}` },
          body: JSON.stringify({
            event_id: eventId,
            timestamp: new Date().toISOString(),
            platform: 'node',
            logger: 'user-management',
            level: event.level,
            message: event.message,
            release: config.release,
            environment: config.environment,
            tags: event.tags ?? {},
          }),
          signal: AbortSignal.timeout(5_000),
        });
        await res.arrayBuffer();
        return res.ok ? { eventId, accepted: true, status: res.status } : { eventId, accepted: false, status: res.status, error: `the tracker answered HTTP ${res.status}` };
      } catch (err) {
        return { eventId, accepted: false, error: `the tracker is unreachable: ${(err as Error).message}` };
      }
    },
  };
}
