/** The workflows the worker bundles: the deployment, its post-deployment review reminder, and the release train. */
export { deploymentWorkflow } from './deployment';
export { reviewReminderWorkflow } from './review-reminder';
export { releaseWorkflow } from './release';
