/** The workflows the worker bundles: the deployment, its post-deployment review reminder, the release train, and the watch evaluator. */
export { deploymentWorkflow } from './deployment';
export { reviewReminderWorkflow } from './review-reminder';
export { releaseWorkflow } from './release';
export { watchEvaluatorWorkflow } from './evaluator';
