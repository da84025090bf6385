/** The rollback procedure's table: which compensation steps run, in which order, for what the forward path registered. */
import { COMPENSATION_STEPS, planRollback } from '../../src/workflows/deployment/rollback';
import type { RollbackFacts } from '../../src/workflows/deployment/rollback';

const facts = (f: Partial<RollbackFacts> = {}): RollbackFacts => ({
  compensations: ['migrations', 'rollout'],
  hasRollbackTarget: true,
  migrationRollbackCommand: true,
  smokeSuite: true,
  ...f,
});

test('rollout and migrations registered: the rollout is undone and verified first, then the migrations, then the smoke suite on the old version', () => {
  expect(planRollback(facts())).toEqual({
    steps: ['rollout undo', 'verify old version', 'migration rollback', 'smoke tests on the old version'],
    nothingRolledOut: false,
  });
});

test('steps run in reverse order of registration, whatever the order', () => {
  expect(planRollback(facts({ compensations: ['rollout', 'migrations'] })).steps).toEqual(['migration rollback', 'rollout undo', 'verify old version', 'smoke tests on the old version']);
});

test('nothing rolled out yet (a failure during the migrations): only the migration rollback, and the timeline says there is no rollout to undo', () => {
  expect(planRollback(facts({ compensations: ['migrations'] }))).toEqual({ steps: ['migration rollback', 'smoke tests on the old version'], nothingRolledOut: true });
});

test('nothing registered: no compensation, the old version is still smoke-tested', () => {
  expect(planRollback(facts({ compensations: [] }))).toEqual({ steps: ['smoke tests on the old version'], nothingRolledOut: true });
});

test('no migrations.rollbackCommand: the migrations are not rolled back', () => {
  expect(planRollback(facts({ migrationRollbackCommand: false })).steps).toEqual(['rollout undo', 'verify old version', 'smoke tests on the old version']);
});

test('no smoke suite: no smoke step', () => {
  expect(planRollback(facts({ smokeSuite: false })).steps).toEqual(['rollout undo', 'verify old version', 'migration rollback']);
});

test('no rollback target recorded: nothing can be undone or tested', () => {
  expect(planRollback(facts({ hasRollbackTarget: false }))).toEqual({ steps: [], nothingRolledOut: true });
});

test('a compensation registered twice runs once', () => {
  expect(planRollback(facts({ compensations: ['migrations', 'rollout', 'rollout'] })).steps.filter((s) => s === 'rollout undo')).toHaveLength(1);
});

test('the table: the rollout is undone then verified; the migrations are rolled back in one step', () => {
  expect(COMPENSATION_STEPS).toEqual({ rollout: ['rollout undo', 'verify old version'], migrations: ['migration rollback'] });
});
