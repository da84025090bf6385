/** The deploy spec: schema, loader and the resolved shape the workflow receives. */
export * from './types';
export { parseDuration } from './duration';
export { specSchema, smokeSuiteSchema, alertRuleSchema } from './schema';
export type { SmokeSuite, SmokeStep, AlertRule, MetricCheck, SpecInput } from './schema';
export { loadSpecFile, resolveSpec, SpecError } from './load';
export type { SpecIssue, SpecOverrides } from './load';
export { defaultAlertRules, defaultMetricChecks } from './defaults';
