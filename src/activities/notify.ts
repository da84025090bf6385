/**
 * Notifications: a Slack-compatible incoming webhook for the team channel, a generic JSON webhook
 * for paging, and a generic JSON webhook for other systems. Each delivery has a timeout and retries
 * transient failures; a channel that still fails is reported, never thrown, so a broken webhook
 * cannot fail a deployment.
 */
import { request, type Dispatcher } from 'undici';
import { dedupKey } from '../model/dedup';
import { resolveSecret as defaultResolveSecret } from './secrets';
import type { DeliveryResult, Notification, NotificationChannels, NotifyPort } from './types';

export interface NotifierOptions {
  dispatcher?: Dispatcher;
  resolveSecret?: (ref: string) => Promise<string>;
  timeoutMs?: number;
  /** Attempts per channel, including the first. */
  attempts?: number;
  /** First retry delay; doubles each time. */
  backoffMs?: number;
}

/** Kinds that wake someone up: sent to the pager channel. */
export const PAGING_KINDS: ReadonlySet<Notification['kind']> = new Set(['paged', 'manual_action', 'failed']);

const EMOJI: Record<Notification['kind'], string> = {
  started: ':rocket:',
  completed: ':white_check_mark:',
  rolled_back: ':leftwards_arrow_with_hook:',
  failed: ':x:',
  paged: ':rotating_light:',
  manual_action: ':rotating_light:',
  review_reminder: ':bell:',
};
const COLOR: Record<Notification['severity'], string> = { info: '#2eb67d', warning: '#ecb22e', critical: '#e01e5a' };

/** Slack incoming-webhook payload (text for notifications, blocks for the channel). */
export function slackPayload(n: Notification, channel?: string): Record<string, unknown> {
  const text = `${EMOJI[n.kind]} ${n.title}`;
  return {
    ...(channel ? { channel } : {}),
    text,
    attachments: [
      {
        color: COLOR[n.severity],
        blocks: [
          { type: 'section', text: { type: 'mrkdwn', text: `*${n.title}*\n${n.text}` } },
          { type: 'context', elements: [{ type: 'mrkdwn', text: `${n.service} · ${n.namespace} · ${n.release} · ${n.deploymentId}` }] },
        ],
      },
    ],
  };
}

/**
 * Generic JSON body for the pager and webhook channels: the notification plus its dedup key (the
 * workflow's, per deployment run, kind and subject; a notification from an older run without one
 * gets the old `<workflowId>:<kind>`).
 */
export function jsonPayload(n: Notification, sentAt: string): Record<string, unknown> {
  return { ...n, dedupKey: n.dedupKey ?? dedupKey({ deploymentId: n.deploymentId, kind: n.kind }), sentAt, source: 'shipwatch' };
}

class DeliveryError extends Error {
  constructor(
    message: string,
    readonly retryable: boolean,
  ) {
    super(message);
    this.name = 'DeliveryError';
  }
}

export function createNotifier(options: NotifierOptions = {}): NotifyPort {
  const resolveSecret = options.resolveSecret ?? defaultResolveSecret;
  const attempts = options.attempts ?? 3;
  const backoffMs = options.backoffMs ?? 500;
  const timeoutMs = options.timeoutMs ?? 10_000;

  async function post(url: string, body: unknown): Promise<void> {
    let res;
    try {
      res = await request(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
        signal: AbortSignal.timeout(timeoutMs),
        ...(options.dispatcher ? { dispatcher: options.dispatcher } : {}),
      });
    } catch (err) {
      const reason = (err as Error).name === 'TimeoutError' ? `no answer within ${timeoutMs}ms` : (err as Error).message;
      throw new DeliveryError(reason, true);
    }
    const text = await res.body.text();
    if (res.statusCode >= 200 && res.statusCode < 300) return;
    const retryable = res.statusCode >= 500 || res.statusCode === 429 || res.statusCode === 408;
    throw new DeliveryError(`HTTP ${res.statusCode}${text ? `: ${text.slice(0, 200)}` : ''}`, retryable);
  }

  async function deliver(channel: DeliveryResult['channel'], ref: string, body: unknown): Promise<DeliveryResult> {
    let url: string;
    try {
      url = await resolveSecret(ref);
    } catch (err) {
      return { channel, delivered: false, error: (err as Error).message };
    }
    let last = '';
    for (let attempt = 1; attempt <= attempts; attempt++) {
      try {
        await post(url, body);
        return { channel, delivered: true };
      } catch (err) {
        const e = err as DeliveryError;
        // The webhook URL is a secret: errors carry the reference, never the URL.
        last = `${ref}: ${e.message} (attempt ${attempt} of ${attempts})`;
        if (!e.retryable) break;
        if (attempt < attempts) await new Promise((r) => setTimeout(r, backoffMs * 2 ** (attempt - 1)));
      }
    }
    return { channel, delivered: false, error: last };
  }

  return {
    async send(notification: Notification, channels: NotificationChannels): Promise<DeliveryResult[]> {
      const sentAt = new Date().toISOString();
      const jobs: Promise<DeliveryResult>[] = [];
      if (channels.slack) jobs.push(deliver('slack', channels.slack.webhook, slackPayload(notification, channels.slack.channel)));
      if (channels.pager && (PAGING_KINDS.has(notification.kind) || notification.severity === 'critical')) {
        jobs.push(deliver('pager', channels.pager.webhook, jsonPayload(notification, sentAt)));
      }
      if (channels.webhook) jobs.push(deliver('webhook', channels.webhook.url, jsonPayload(notification, sentAt)));
      return Promise.all(jobs);
    },
  };
}
