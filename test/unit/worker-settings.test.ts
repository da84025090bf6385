/** The worker's on/off settings: the default, both words, and a bad value named with the fix. */
import { WorkerSettingError, onOff } from '../../src/worker';

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
