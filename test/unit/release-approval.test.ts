/** Which service `shipwatch release approve` opens, or why it is refused (src/workflows/release/plan.ts). */
import { approvalTarget } from '../../src/workflows/release/plan';
import type { ApprovalView } from '../../src/workflows/release/plan';

const train = (stages: Record<string, { stage: ApprovalView['services'][number]['stage']; approval?: 'required'; approvedBy?: string }>, goingForward = true): ApprovalView => ({
  goingForward,
  services: Object.entries(stages).map(([name, s]) => ({ name, after: name === 'user-management' ? [] : ['user-management'], approval: s.approval ?? 'none', stage: s.stage, ...(s.approvedBy ? { approvedBy: s.approvedBy } : {}) })),
});

test('opens the gate a service waits at, with or without --service', () => {
  const view = train({ 'user-management': { stage: 'watching' }, 'audit-log': { stage: 'awaiting-approval', approval: 'required' } });
  expect(approvalTarget(view, {})).toEqual({ service: 'audit-log', waiting: true });
  expect(approvalTarget(view, { service: 'audit-log' })).toEqual({ service: 'audit-log', waiting: true });
});

test('approves a gated service whose dependencies still roll out (what a restart race delivers): it will not wait', () => {
  const view = train({ 'user-management': { stage: 'deploying' }, 'audit-log': { stage: 'pending', approval: 'required' } });
  expect(approvalTarget(view, {})).toEqual({ service: 'audit-log', waiting: false });
  expect(approvalTarget(view, { service: 'audit-log' })).toEqual({ service: 'audit-log', waiting: false });
});

test('refuses, naming why: no gate, already approved, already started, unknown, ambiguous, release over', () => {
  const view = train({
    'user-management': { stage: 'watching' },
    'audit-log': { stage: 'pending', approval: 'required', approvedBy: 'carol' },
    billing: { stage: 'deploying', approval: 'required' },
    web: { stage: 'pending' },
  });
  expect(approvalTarget(view, { service: 'web' })).toEqual({ refusal: 'web is not waiting for approval: it has no approval gate' });
  expect(approvalTarget(view, { service: 'audit-log' })).toEqual({ refusal: 'audit-log is not waiting for approval: already approved by carol' });
  expect(approvalTarget(view, { service: 'billing' })).toEqual({ refusal: 'billing is not waiting for approval: it is already deploying' });
  expect(approvalTarget(view, { service: 'nope' })).toEqual({ refusal: 'nope is not in this release (services: user-management, audit-log, billing, web)' });
  expect(approvalTarget(view, {})).toEqual({ refusal: 'no service is waiting for approval' });
  const two = train({ 'user-management': { stage: 'watching' }, a: { stage: 'awaiting-approval', approval: 'required' }, b: { stage: 'awaiting-approval', approval: 'required' } });
  expect(approvalTarget(two, {})).toEqual({ refusal: 'several services are waiting (a, b): name one with --service' });
  // One waits now, another is gated but not there yet: a bare approve opens the one that waits.
  const one = train({ 'user-management': { stage: 'watching' }, a: { stage: 'awaiting-approval', approval: 'required' }, b: { stage: 'pending', approval: 'required' } });
  expect(approvalTarget(one, {})).toEqual({ service: 'a', waiting: true });
  expect(approvalTarget(train({ 'audit-log': { stage: 'awaiting-approval', approval: 'required' } }, false), {})).toEqual({ refusal: 'the release is no longer going forward' });
});
