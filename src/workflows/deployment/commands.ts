/**
 * Who may roll back, promote, pause, resume or extend a deployment, and what each does: the
 * refusal rules and their effects as one plain class (as `ClusterManager` in samples-typescript's
 * safe-message-handlers), so each handler in deployment.ts is one line and the rules are unit-tested
 * without a server. A refusal is a sentence for the person who asked; updates answer with it,
 * signals (the Web UI's) are dropped when the update would be refused.
 */
import { formatDuration, releaseOfImage } from '../../format';
import type { CommandAnswer, ExtendWatchRequest, PromoteRequest, RollbackAnswer, RollbackRequest } from '../messages';
import type { DeploymentContext } from './context';

/** Who asked, for the pause and resume updates. */
export interface Requester {
  requestedBy?: string;
}

/** What the commands read and change: the context's state and its timeline, wake-ups and rollback request. */
export type CommandTarget = Pick<DeploymentContext, 'spec' | 'state' | 'record' | 'wake' | 'requestRollback' | 'extendedBeforeWatchMs'>;

const by = (req: Requester): string => req.requestedBy ?? 'unknown';

export class DeploymentCommands {
  constructor(private readonly ctx: CommandTarget) {}

  // ------------------------------------------------------------ refusal rules

  /** Why a rollback is refused now, or undefined when it is accepted. */
  rollbackRefusal(): string | undefined {
    const { state } = this.ctx;
    if (state.outcome === 'ROLLED_BACK') return `already rolled back (${state.rollback.reason ?? 'no reason given'})`;
    if (state.outcome === 'MANUAL_ACTION_REQUIRED') return 'the rollback already ran and failed: manual action is required';
    if (state.outcome !== 'IN_PROGRESS') return `too late: the deployment already ended ${state.outcome}`;
    if (state.rollbackRequest) return `a rollback is already under way (requested by ${state.rollbackRequest.requestedBy}: ${state.rollbackRequest.reason})`;
    return undefined;
  }

  promoteRefusal(): string | undefined {
    const { state } = this.ctx;
    return this.inProgressRefusal() ?? (state.phase !== 'WATCH' ? `not in the watch window yet (phase ${state.phase})` : this.watchEndedRefusal());
  }

  pauseRefusal(): string | undefined {
    return this.inProgressRefusal() ?? (this.ctx.state.paused ? 'already paused' : undefined);
  }

  resumeRefusal(): string | undefined {
    return this.inProgressRefusal() ?? (!this.ctx.state.paused ? 'not paused' : undefined);
  }

  extendRefusal(req: ExtendWatchRequest): string | undefined {
    if (!(req.byMs > 0)) return 'byMs must be a positive number of milliseconds';
    return this.inProgressRefusal() ?? this.watchEndedRefusal();
  }

  /** Update validators: throw the refusal, which the caller receives as the update's failure. */
  validateRollback(): void {
    refuseWith(this.rollbackRefusal());
  }
  validatePromote(): void {
    refuseWith(this.promoteRefusal());
  }
  validatePause(): void {
    refuseWith(this.pauseRefusal());
  }
  validateResume(): void {
    refuseWith(this.resumeRefusal());
  }
  validateExtend(req: ExtendWatchRequest): void {
    refuseWith(this.extendRefusal(req));
  }

  // ------------------------------------------------------------ effects (run once accepted)

  rollback(req: RollbackRequest): RollbackAnswer {
    const { spec, state } = this.ctx;
    this.ctx.requestRollback('signal', req.reason, by(req));
    return { accepted: true, message: `accepted: rolling ${spec.service} back to ${state.rollbackTarget ? releaseOfImage(state.rollbackTarget.image) : 'the previous revision'}` };
  }

  promote(req: PromoteRequest): CommandAnswer {
    const { state } = this.ctx;
    if (state.watch && !state.watch.outcome) {
      state.watch.outcome = 'promoted';
      state.watch.promotedBy = by(req);
      this.ctx.record('ok', 'Release promoted', `watch window ended early by ${by(req)}`, 'promoted');
      this.ctx.wake();
    }
    return { accepted: true, message: `accepted: ${this.ctx.spec.release} promoted, watch window ended` };
  }

  pause(req: Requester): CommandAnswer {
    this.ctx.state.paused = true;
    this.ctx.record('info', 'Paused', `by ${by(req)}: the rollout holds before its next step, auto-rollback is held (alerts still evaluated, pages still sent)`);
    return { accepted: true, message: 'accepted: paused' };
  }

  resume(req: Requester): CommandAnswer {
    this.ctx.state.paused = false;
    this.ctx.record('info', 'Resumed', `by ${by(req)}`);
    this.ctx.wake();
    return { accepted: true, message: 'accepted: resumed' };
  }

  /** Lengthens the window; before it opens, the planned window. */
  extendWatch(req: ExtendWatchRequest): CommandAnswer {
    const { watch } = this.ctx.state;
    if (watch) {
      watch.endsAt = new Date(Date.parse(watch.endsAt) + req.byMs).toISOString();
    } else {
      this.ctx.extendedBeforeWatchMs += req.byMs;
    }
    this.ctx.record('info', 'Watch window extended', `by ${formatDuration(req.byMs)} (by ${by(req)})`);
    this.ctx.wake();
    return { accepted: true, message: `accepted: watch window extended by ${formatDuration(req.byMs)}${watch ? `, now ends ${watch.endsAt}` : ''}` };
  }

  /** The Web UI's signals: applied when the update would be accepted, dropped otherwise. */
  rollbackSignal(req: RollbackRequest): void {
    if (!this.rollbackRefusal()) this.rollback(req);
  }
  promoteSignal(req: PromoteRequest): void {
    if (!this.promoteRefusal()) this.promote(req);
  }

  // ------------------------------------------------------------ shared rules

  private inProgressRefusal(): string | undefined {
    const { state } = this.ctx;
    if (state.outcome !== 'IN_PROGRESS') return `too late: the deployment already ended ${state.outcome}`;
    return state.rollbackRequest ? 'a rollback is under way' : undefined;
  }

  private watchEndedRefusal(): string | undefined {
    const { watch } = this.ctx.state;
    return watch?.outcome ? `the watch window already ended (${watch.outcome})` : undefined;
  }
}

function refuseWith(reason: string | undefined): void {
  if (reason) throw new Error(reason);
}
