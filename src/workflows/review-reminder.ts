/**
 * The post-deployment review reminder (the seed: "Schedule post-deployment review in 1 week"):
 * a tiny workflow the deployment starts as an abandoned child, which sleeps until the review is
 * due and sends one notification, so the deployment itself can close when its watch ends.
 */
import { proxyActivities, sleep } from '@temporalio/workflow';
import { NOTIFICATION } from '../activities/options';
import type { DeploymentActivities } from '../activities';
import type { DeliveryResult, NotificationChannels } from '../activities/types';
import { dedupKey } from '../model';
import type { DeploymentOutcome } from '../model';

export interface ReviewReminderInput {
  deploymentId: string;
  /** The deployment's first run ID, for the dedup key (absent in reminders started before it was passed). */
  runId?: string;
  service: string;
  namespace: string;
  release: string;
  outcome: DeploymentOutcome;
  /** ISO time the review is due. */
  at: string;
  channels: NotificationChannels;
}

export async function reviewReminderWorkflow(input: ReviewReminderInput): Promise<DeliveryResult[]> {
  const waitMs = Date.parse(input.at) - Date.now();
  if (waitMs > 0) await sleep(waitMs);
  const { notify } = proxyActivities<DeploymentActivities>({ ...NOTIFICATION, summary: 'Post-deployment review reminder' });
  return notify({
    notification: {
      kind: 'review_reminder',
      service: input.service,
      namespace: input.namespace,
      release: input.release,
      deploymentId: input.deploymentId,
      dedupKey: dedupKey({ deploymentId: input.deploymentId, ...(input.runId ? { runId: input.runId } : {}), kind: 'review_reminder' }),
      title: `Post-deployment review due: ${input.service} ${input.release}`,
      text: `The post-deployment review of ${input.service} ${input.release} in ${input.namespace} (deployment ${input.deploymentId}, ${input.outcome}) is due.`,
      severity: 'info',
    },
    channels: input.channels,
  });
}
