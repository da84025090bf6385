/**
 * The refusal and apply rules of the deployment's commands (rollback, promote, pause, resume,
 * extendWatch) on a plain DeploymentContext: no server, no workflow.
 */
import { DeploymentCommands } from '../../src/workflows/deployment/commands';
import { DeploymentContext } from '../../src/workflows/deployment/context';
import { initialState } from '../../src/workflows/state';
import type { DeploymentState } from '../../src/workflows/state';
import type { DeploySpec } from '../../src/spec/types';
import { sampleRollbackTarget } from '../workflow/fixtures/rollback-target';
import { testSpec } from '../workflow/fixtures/spec';

let spec: DeploySpec;
beforeAll(async () => {
  spec = await testSpec();
});

const previous = sampleRollbackTarget;

/** A deployment in the given shape, and its commands. */
function deployment(change: (state: DeploymentState) => void = () => undefined) {
  const state = initialState({ deploymentId: 'deploy-production-user-management', firstRunId: 'run-1', requestedBy: 'alice', startedAt: '2025-11-15T10:00:00.000Z', alerts: [] });
  change(state);
  const ctx = new DeploymentContext({ spec, requestedBy: 'alice' }, state);
  return { ctx, state, commands: new DeploymentCommands(ctx), titles: () => state.timeline.events.map((e) => e.title) };
}

const inWatch = (state: DeploymentState) => {
  state.phase = 'WATCH';
  state.rollbackTarget = previous;
  state.watch = { startedAt: '2025-11-15T10:30:00.000Z', endsAt: '2025-11-16T10:30:00.000Z', alertsFired: [], checks: 0 };
};

describe('rollback', () => {
  test('accepted while in progress: requested once, by whom, back to the recorded release', () => {
    const { commands, state, ctx } = deployment(inWatch);
    expect(commands.rollbackRefusal()).toBeUndefined();
    expect(commands.rollback({ reason: 'error spike', requestedBy: 'bob' })).toEqual({ accepted: true, message: 'accepted: rolling user-management back to v0.9.0' });
    expect(state.rollbackRequest).toMatchObject({ trigger: 'signal', reason: 'error spike', requestedBy: 'bob' });
    expect(ctx.wakeUps).toBe(1);
  });

  test.each([
    ['already rolled back', (s: DeploymentState) => Object.assign(s, { outcome: 'ROLLED_BACK', rollback: { required: true, readiness: '', reason: 'error spike' } }), 'already rolled back (error spike)'],
    ['the rollback failed', (s: DeploymentState) => Object.assign(s, { outcome: 'MANUAL_ACTION_REQUIRED' }), 'the rollback already ran and failed: manual action is required'],
    ['ended', (s: DeploymentState) => Object.assign(s, { outcome: 'SUCCEEDED' }), 'too late: the deployment already ended SUCCEEDED'],
    ['failed', (s: DeploymentState) => Object.assign(s, { outcome: 'FAILED' }), 'too late: the deployment already ended FAILED'],
    [
      'under way',
      (s: DeploymentState) => Object.assign(s, { rollbackRequest: { trigger: 'alert', reason: 'HighErrorRate firing for 15m', requestedBy: 'shipwatch', at: '' } }),
      'a rollback is already under way (requested by shipwatch: HighErrorRate firing for 15m)',
    ],
  ])('refused when %s', (_name, shape, refusal) => {
    const { commands } = deployment(shape);
    expect(commands.rollbackRefusal()).toBe(refusal);
    expect(() => commands.validateRollback()).toThrow(refusal);
  });

  test('before the rollout the answer names the previous revision; the signal is dropped when the update would be refused', () => {
    const { commands, state } = deployment();
    expect(commands.rollback({ reason: 'changed my mind' }).message).toBe('accepted: rolling user-management back to the previous revision');
    expect(state.rollbackRequest?.requestedBy).toBe('unknown');
    commands.rollbackSignal({ reason: 'again', requestedBy: 'carol' });
    expect(state.rollbackRequest?.reason).toBe('changed my mind');
  });
});

describe('promote', () => {
  test('refused before the watch window, during a rollback, after the window or the deployment ended', () => {
    expect(deployment((s) => (s.phase = 'ROLLOUT')).commands.promoteRefusal()).toBe('not in the watch window yet (phase ROLLOUT)');
    expect(deployment((s) => (inWatch(s), (s.rollbackRequest = { trigger: 'signal', reason: 'x', requestedBy: 'bob', at: '' }))).commands.promoteRefusal()).toBe('a rollback is under way');
    expect(deployment((s) => (inWatch(s), (s.watch!.outcome = 'promoted'))).commands.promoteRefusal()).toBe('the watch window already ended (promoted)');
    expect(deployment((s) => (inWatch(s), (s.outcome = 'SUCCEEDED'))).commands.promoteRefusal()).toBe('too late: the deployment already ended SUCCEEDED');
  });

  test('in the window: ends it, promoted by whom, on the timeline, and wakes the watch', () => {
    const { commands, state, ctx, titles } = deployment(inWatch);
    expect(commands.promoteRefusal()).toBeUndefined();
    expect(commands.promote({ requestedBy: 'erin' }).message).toBe('accepted: v1.0.0 promoted, watch window ended');
    expect(state.watch).toMatchObject({ outcome: 'promoted', promotedBy: 'erin' });
    expect(titles()).toEqual(['Release promoted']);
    expect(ctx.wakeUps).toBe(1);
  });

  test('the signal before the window changes nothing', () => {
    const { commands, state, titles } = deployment((s) => (s.phase = 'SMOKE'));
    commands.promoteSignal({ requestedBy: 'erin' });
    expect(state.watch).toBeUndefined();
    expect(titles()).toEqual([]);
  });
});

describe('pause and resume', () => {
  test('pause, refused twice; resume, refused when not paused; both refused once ended or rolling back', () => {
    const { commands, state, ctx, titles } = deployment((s) => (s.phase = 'ROLLOUT'));
    expect(commands.resumeRefusal()).toBe('not paused');
    expect(commands.pause({ requestedBy: 'dave' }).message).toBe('accepted: paused');
    expect(state.paused).toBe(true);
    expect(commands.pauseRefusal()).toBe('already paused');
    expect(commands.resume({}).message).toBe('accepted: resumed');
    expect(state.paused).toBe(false);
    expect(ctx.wakeUps).toBe(1);
    expect(titles()).toEqual(['Paused', 'Resumed']);
    expect(deployment((s) => (s.outcome = 'ROLLED_BACK')).commands.pauseRefusal()).toBe('too late: the deployment already ended ROLLED_BACK');
    expect(deployment((s) => (s.rollbackRequest = { trigger: 'logs', reason: 'x', requestedBy: 'shipwatch', at: '' })).commands.resumeRefusal()).toBe('a rollback is under way');
  });
});

describe('extendWatch', () => {
  test.each([0, -5, Number.NaN])('byMs %p is refused, naming the field', (byMs) => {
    const { commands } = deployment(inWatch);
    expect(commands.extendRefusal({ byMs })).toBe('byMs must be a positive number of milliseconds');
    expect(() => commands.validateExtend({ byMs })).toThrow('byMs must be a positive number of milliseconds');
  });

  test('in the window: moves its end and says when it now ends', () => {
    const { commands, state } = deployment(inWatch);
    expect(commands.extendRefusal({ byMs: 3_600_000 })).toBeUndefined();
    expect(commands.extendWatch({ byMs: 3_600_000, requestedBy: 'erin' }).message).toBe('accepted: watch window extended by 1h, now ends 2025-11-16T11:30:00.000Z');
    expect(state.watch?.endsAt).toBe('2025-11-16T11:30:00.000Z');
  });

  test('before the window: lengthens the planned window', () => {
    const { commands, ctx, state } = deployment((s) => (s.phase = 'ROLLOUT'));
    expect(commands.extendWatch({ byMs: 1_800_000 }).message).toBe('accepted: watch window extended by 30m');
    expect(commands.extendWatch({ byMs: 1_800_000 }).message).toBe('accepted: watch window extended by 30m');
    expect(ctx.extendedBeforeWatchMs).toBe(3_600_000);
    expect(state.watch).toBeUndefined();
  });

  test('refused once the window ended', () => {
    const { commands } = deployment((s) => (inWatch(s), (s.watch!.outcome = 'completed')));
    expect(commands.extendRefusal({ byMs: 1 })).toBe('the watch window already ended (completed)');
  });
});
