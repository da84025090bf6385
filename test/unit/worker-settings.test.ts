/** The worker's settings: the on/off ones and the queues it polls — the default, each accepted value, and a bad value named with the fix. */
import { WorkerSettingError, onOff, workerQueues } from '../../src/worker';
import { workerEnv } from '../../src/commands/worker';

const NAMES = [
  'SHIPWATCH_WORKFLOW_SOURCE_MAPS',
  'SHIPWATCH_WORKFLOW_STACK_TRACES',
  'SHIPWATCH_WORKFLOW_DEADLOCK_DETECTION',
];

test.each(NAMES)('%s is on when unset or empty, and as written when "on" or "off"', (name) => {
  expect(onOff({}, name)).toBe(true);
  expect(onOff({ [name]: '' }, name)).toBe(true);
  expect(onOff({ [name]: 'on' }, name)).toBe(true);
  expect(onOff({ [name]: 'off' }, name)).toBe(false);
});

test.each(NAMES)('%s=false is refused with the variable and its two values named', (name) => {
  expect(() => onOff({ [name]: 'false' }, name)).toThrow(WorkerSettingError);
  expect(() => onOff({ [name]: 'false' }, name)).toThrow(`${name} must be "on" or "off", not "false".`);
});

describe('SHIPWATCH_WORKER_QUEUES', () => {
  test('both queues when unset or empty; one, or both in either order and with spaces, as written', () => {
    expect(workerQueues({})).toEqual(['deployments', 'evaluators']);
    expect(workerQueues({ SHIPWATCH_WORKER_QUEUES: '' })).toEqual(['deployments', 'evaluators']);
    expect(workerQueues({ SHIPWATCH_WORKER_QUEUES: 'evaluators' })).toEqual(['evaluators']);
    expect(workerQueues({ SHIPWATCH_WORKER_QUEUES: 'deployments' })).toEqual(['deployments']);
    expect(workerQueues({ SHIPWATCH_WORKER_QUEUES: 'evaluators, deployments' })).toEqual(['deployments', 'evaluators']);
  });

  test.each(['evaluator', 'deployments,watch', ','])('"%s" is refused with the variable, the accepted values and the stray name', (value) => {
    expect(() => workerQueues({ SHIPWATCH_WORKER_QUEUES: value })).toThrow(WorkerSettingError);
    expect(() => workerQueues({ SHIPWATCH_WORKER_QUEUES: value })).toThrow(`SHIPWATCH_WORKER_QUEUES must be "deployments", "evaluators" or "deployments,evaluators" (the default), not "${value}"`);
  });

  test('the flag of `shipwatch worker` sets it', () => {
    expect(workerEnv({ queues: 'evaluators' }, { SHIPWATCH_WORKER_QUEUES: 'deployments' }).SHIPWATCH_WORKER_QUEUES).toBe('evaluators');
  });
});
