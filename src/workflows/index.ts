/** The workflows the worker bundles: the deployment and its post-deployment review reminder. */
export { deploymentWorkflow } from './deployment';
export { reviewReminderWorkflow } from './review-reminder';
