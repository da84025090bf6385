/** The deployment workflow's smaller decisions, with plain data: traffic recording, the run budget, the carried state, rollback readiness. */
import { rollbackReadiness } from '../../src/workflows/deployment/precheck';
import { CHECKS_PER_RUN, HISTORY_BUDGET, runBudgetSpent } from '../../src/workflows/deployment/run-budget';
import { splitOf, trafficToRecord } from '../../src/workflows/deployment/traffic';
import { initialState, resumeCarried } from '../../src/workflows/state';
import { sampleRollbackTarget } from '../workflow/fixtures/rollback-target';
import { testSpec } from '../workflow/fixtures/spec';

const sample = (newPods: number, oldPods: number, newPercent: number) => ({ at: `t${newPods}`, newPods, oldPods, newPercent });

describe('traffic', () => {
  test('each change of the split once, compared with the last one recorded', () => {
    expect(trafficToRecord(sample(1, 2, 33), [sample(1, 2, 33), sample(1, 3, 25), sample(2, 1, 67), sample(2, 1, 67)])).toEqual([sample(1, 3, 25), sample(2, 1, 67)]);
    expect(trafficToRecord(undefined, [sample(0, 3, 0)])).toEqual([sample(0, 3, 0)]);
    expect(trafficToRecord(sample(0, 3, 0), [])).toEqual([]);
  });

  test('the split of ready pods; a Deployment without replicas is all new', () => {
    expect(splitOf(1, 2, 3)).toEqual({ newPods: 1, oldPods: 2, newPercent: 33 });
    expect(splitOf(2, 1, 3)).toEqual({ newPods: 2, oldPods: 1, newPercent: 67 });
    expect(splitOf(0, 0, 0)).toEqual({ newPods: 0, oldPods: 0, newPercent: 100 });
  });
});

describe('run budget (continue-as-new)', () => {
  const fresh = { checksThisRun: 0, historyLength: 10, continueAsNewSuggested: false };
  test('hands over after CHECKS_PER_RUN checks, at HISTORY_BUDGET events, or when Temporal suggests it', () => {
    expect(runBudgetSpent(fresh)).toBe(false);
    expect(runBudgetSpent({ ...fresh, checksThisRun: CHECKS_PER_RUN - 1, historyLength: HISTORY_BUDGET - 1 })).toBe(false);
    expect(runBudgetSpent({ ...fresh, checksThisRun: CHECKS_PER_RUN })).toBe(true);
    expect(runBudgetSpent({ ...fresh, historyLength: HISTORY_BUDGET })).toBe(true);
    expect(runBudgetSpent({ ...fresh, continueAsNewSuggested: true })).toBe(true);
  });
});

const target = sampleRollbackTarget;

describe('carried state', () => {
  const carried = () => ({ ...initialState({ deploymentId: 'd', firstRunId: 'r', requestedBy: 'alice', startedAt: '2025-11-15T10:00:00.000Z', alerts: [] }), runs: 3, checksThisRun: 120 });

  test('the next run: one more run, no checks yet', () => {
    const state = resumeCarried({ ...carried(), rollbackTarget: target });
    expect(state).toMatchObject({ runs: 4, checksThisRun: 0, rollbackTarget: target });
  });

  test('a state carried by a run from before the rename names the rollback target `target`: read as rollbackTarget', () => {
    const state = resumeCarried({ ...carried(), target });
    expect(state.rollbackTarget).toEqual(target);
    expect('target' in state).toBe(false);
  });
});

describe('rollback readiness', () => {
  test('names the revision and release to return to, and how the migrations roll back (or that they do not)', async () => {
    const spec = await testSpec();
    const { rollbackCommand: _rollbackCommand, ...forwardOnly } = spec.migrations!;
    const { migrations: _migrations, ...noMigrations } = spec;
    expect(rollbackReadiness(target, spec)).toBe('Verified: revision 4 (v0.9.0) to return to; migrations roll back with: python manage.py migrate users 0002 (image ghcr.io/org/user-management:v0.9.0)');
    expect(rollbackReadiness(target, { ...spec, migrations: forwardOnly })).toBe('Verified: revision 4 (v0.9.0) to return to; migrations are NOT rolled back (no migrations.rollbackCommand in the spec)');
    expect(rollbackReadiness(target, noMigrations)).toBe('Verified: revision 4 (v0.9.0) to return to');
  });
});
