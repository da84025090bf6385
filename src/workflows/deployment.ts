/**
 * The deployment workflow: the seed's Deploy & Launch phase as durable activities, read top to
 * bottom like its "Deployment Execution Steps" — pre-deploy checks, backup, migrations, the
 * stepped rollout, pods, smoke tests, metrics, the report, then the watch window — with the
 * rollback procedure as a non-cancellable saga. This file holds the message handlers, the ordered
 * phases and the finish; each phase is a module of ./deployment working on a DeploymentContext,
 * and the rules of the commands are the plain class DeploymentCommands.
 */
import { setHandler } from '@temporalio/workflow';
import type { DeploymentReport } from '../model';
import { backup } from './deployment/backup';
import { DeploymentCommands } from './deployment/commands';
import { reportComplete } from './deployment/complete';
import { DeploymentContext } from './deployment/context';
import { finish, forwardPathStopped } from './deployment/finish';
import { interruptible } from './deployment/interruptible';
import { metrics } from './deployment/metrics';
import { migrate } from './deployment/migrate';
import { monitoring, monitoringPrecheck } from './deployment/monitoring';
import { precheck } from './deployment/precheck';
import { rollout } from './deployment/rollout';
import { smoke } from './deployment/smoke';
import { verifyPods } from './deployment/verify';
import { watchWindow } from './deployment/watch-window';
import {
  extendWatchUpdate,
  pauseUpdate,
  promoteSignal,
  promoteUpdate,
  reportQuery,
  resumeUpdate,
  rollbackSignal,
  rollbackUpdate,
  statusQuery,
  timelineQuery,
} from './messages';
import type { DeploymentInput, ExtendWatchRequest } from './messages';
import { buildStatus } from './report';
import { watchReportSignal } from './evaluator-messages';
import { withLiveChecks } from './evaluator-window';

export { DEPLOYMENT_FAILED, DEPLOYMENT_ROLLED_BACK, MANUAL_ACTION_REQUIRED } from './deployment/failures';

/** The forward path, in the seed's order; a phase whose part of the spec is absent returns at once. */
const FORWARD_PATH = [
  precheck, //        pre-deploy verification: plan, cluster, rollback readiness, baseline
  monitoringPrecheck, // pre-deploy: the alert rules installed where Prometheus evaluates them (go/no-go)
  backup, //          step 1: database backup
  migrate, //         step 2: database migrations
  rollout, //         step 3: stepped rollout, a health window after each step
  verifyPods, //      step 4: pods running the new version, logs clean
  smoke, //           step 5: smoke tests
  metrics, //         step 6: metrics against the baseline
  monitoring, //      Hour 3: scrape, alerts tested, logging, error tracking, dashboards
  reportComplete, //  deployment complete: report written, team told
] as const;

export async function deploymentWorkflow(input: DeploymentInput): Promise<DeploymentReport> {
  const ctx = DeploymentContext.start(input);
  const commands = new DeploymentCommands(ctx);

  setHandler(statusQuery, () => withLiveChecks(buildStatus(ctx.state, ctx.spec, Date.now()), ctx.state, ctx.spec, Date.now()));
  setHandler(timelineQuery, (opts) => ctx.timeline.after(opts?.afterSeq ?? 0));
  setHandler(reportQuery, () => ctx.report());
  setHandler(rollbackSignal, (req) => commands.rollbackSignal(req));
  setHandler(rollbackUpdate, (req) => commands.rollback(req), { validator: (_req) => commands.validateRollback() });
  setHandler(promoteSignal, (req) => commands.promoteSignal(req));
  setHandler(promoteUpdate, (req) => commands.promote(req), { validator: (_req) => commands.validatePromote() });
  setHandler(pauseUpdate, (req) => commands.pause(req), { validator: (_req) => commands.validatePause() });
  setHandler(resumeUpdate, (req) => commands.resume(req), { validator: (_req) => commands.validateResume() });
  setHandler(watchReportSignal, (report) => ctx.receiveWatchReport(report));
  setHandler(extendWatchUpdate, (req) => commands.extendWatch(req), { validator: (req: ExtendWatchRequest) => commands.validateExtend(req) });

  const forwardThenWatch = async () => {
    if (!ctx.resumed) for (const phase of FORWARD_PATH) await phase(ctx);
    await watchWindow(ctx);
  };
  try {
    await interruptible(forwardThenWatch, () => ctx.state.rollbackRequest !== undefined);
  } catch (err) {
    await forwardPathStopped(ctx, err);
  }
  return finish(ctx);
}
