/**
 * The service's runbook in Markdown: each alert rule of the spec with its severity, meaning,
 * investigation commands, the seed's common causes and resolutions, the escalation policy the
 * watch window applies, and the exact shipwatch commands to follow and roll back a release.
 */
import { formatDuration } from '../format';
import type { DeploySpec, ResolvedAlertRule } from '../spec/types';
import { deploymentWorkflowId } from '../workflows/messages';
import { alertCondition, runbookAnchor } from './rules';
import type { MonitoredService } from './monitored-service';

interface Knowledge {
  causes: string[];
  resolution: string[];
  /** Extra PromQL or commands that narrow the problem down. */
  investigate?: (spec: DeploySpec, monitored: MonitoredService) => string[];
}

/** What the seed's runbook knows about its alerts (HighErrorRate, PodDown) and the other two defaults. */
const KNOWLEDGE: Record<string, Knowledge> = {
  HighErrorRate: {
    causes: ['Database connection issues', 'Third-party API failure (email, OAuth)', 'Memory pressure'],
    resolution: [
      'If database: check DB status, restart if needed',
      'If API: enable fallback, notify users',
      'If memory: scale up pods temporarily',
    ],
    investigate: (_spec, t) => [
      `# Prometheus query: which endpoint fails\nsum by (endpoint) (rate(http_requests_total{${t.selector},status=~"5.."}[${t.window}]))`,
    ],
  },
  PodDown: {
    causes: ['OOM kill', 'Crash loop', 'Node failure'],
    resolution: [
      'Check pod events',
      'If OOM: increase memory limit',
      'If crash: check logs, may need hotfix',
      'If node failure: pods should reschedule automatically',
    ],
    investigate: (spec) => [
      `kubectl describe deployment/${spec.kubernetes.deployment} -n ${spec.namespace}`,
      `kubectl get events -n ${spec.namespace} --sort-by=.lastTimestamp | tail -20`,
      `kubectl logs <pod-name> -n ${spec.namespace} --previous  # If crashed`,
    ],
  },
  HighResponseTime: {
    causes: ['Slow database queries (missing index after a migration)', 'Third-party API latency', 'CPU throttling or too few pods'],
    resolution: [
      'If a migration added a slow query: add the index or roll back the release',
      'If a dependency is slow: enable its fallback or timeout',
      'If CPU-bound: scale up pods temporarily, then raise the CPU limit',
    ],
    investigate: (_spec, t) => [
      `# Prometheus query: p95 by endpoint\nhistogram_quantile(0.95, sum by (le, endpoint) (rate(http_request_duration_seconds_bucket{${t.selector}}[${t.window}])))`,
    ],
  },
  HighMemoryUsage: {
    causes: ['Memory leak in the new release', 'A cache or batch grown beyond its limit', 'Memory limit set too low for the load'],
    resolution: [
      'If it grows steadily since the release: roll back and report the leak',
      'If the load grew: increase the memory limit or scale out',
      'Watch for OOM kills (PodDown follows if pods restart)',
    ],
    investigate: (spec) => [`kubectl top pods -n ${spec.namespace} -l app=${spec.service}`],
  },
};

const GENERIC: Knowledge = {
  causes: ['A regression in the new release', 'A dependency of the service failing', 'Load beyond what the pods can serve'],
  resolution: ['Compare with the baseline in the deployment report', 'If the release caused it: roll back (below)'],
};

const SEVERITY: Record<ResolvedAlertRule['severity'], string> = { critical: 'Critical', warning: 'Warning', info: 'Info' };

function describeThreshold(rule: ResolvedAlertRule): string {
  const value =
    rule.unit === 'ratio'
      ? `${+(rule.threshold * 100).toFixed(4)}%`
      : rule.unit === 'seconds'
        ? `${rule.threshold}s`
        : rule.unit === 'bytes'
          ? `${rule.threshold} bytes`
          : String(rule.threshold);
  return `value ${rule.op} ${value}${rule.forMs > 0 ? ` for ${formatDuration(rule.forMs)}` : ''}`;
}

/** The escalation the watch window applies to a firing rule, in the seed's words. */
function escalation(spec: DeploySpec, id: string): string[] {
  const w = spec.watch;
  const rollbackLine = w.autoRollback
    ? `After ${formatDuration(w.rollbackAfterMs)} firing: shipwatch rolls the release back automatically (watch.autoRollback is on); follow it with \`shipwatch timeline ${id} --follow\`.`
    : `After ${formatDuration(w.rollbackAfterMs)} firing: consider rollback (watch.autoRollback is off): \`shipwatch rollback ${id} --reason "<alert> firing"\`.`;
  return [
    `After ${formatDuration(w.pageAfterMs)} firing: page the on-call engineer${spec.notifications.pager ? ' (shipwatch pages through notifications.pager)' : ''}.`,
    rollbackLine,
    `This applies during the ${formatDuration(w.durationMs)} watch window after a release; afterwards the Prometheus rules keep alerting and the on-call decides.`,
  ];
}

function section(spec: DeploySpec, monitored: MonitoredService, rule: ResolvedAlertRule, id: string): string {
  const k = KNOWLEDGE[rule.name] ?? GENERIC;
  const investigate = [
    `kubectl logs -n ${spec.namespace} -l app=${spec.service} --tail=100 | grep ERROR`,
    `kubectl get pods -n ${spec.namespace} -l app=${spec.service}`,
    ...(k.investigate?.(spec, monitored) ?? []),
    `# The alert's own query (current value)\n${rule.expr}`,
    `shipwatch status ${id}`,
    `shipwatch timeline ${id} --follow`,
  ];
  return [
    `<a id="${runbookAnchor(rule)}"></a>`,
    `### Alert: ${rule.name}`,
    '',
    `**Severity**: ${SEVERITY[rule.severity]}`,
    `**Description**: ${rule.summary || rule.name}: ${describeThreshold(rule)}`,
    `**Condition (PromQL)**: \`${alertCondition(rule)}\``,
    '',
    '**Investigation Steps**:',
    '```bash',
    ...investigate,
    '```',
    '',
    '**Common Causes**:',
    ...k.causes.map((c) => `- ${c}`),
    '',
    '**Resolution**:',
    ...k.resolution.map((r) => `- ${r}`),
    '',
    '**Escalation**:',
    ...escalation(spec, id).map((e) => `- ${e}`),
    '',
    '---',
    '',
  ].join('\n');
}

export function runbook(spec: DeploySpec, monitored: MonitoredService): string {
  const id = deploymentWorkflowId(spec.namespace, spec.service);
  const k8s = `-n ${spec.namespace}`;
  return [
    `# Runbook: ${spec.service} (${spec.namespace})`,
    '',
    `Generated by shipwatch from the deploy spec of release ${spec.release}. The alerts below are the`,
    'rules the watch window evaluates after every release, and the rules Prometheus alerts on.',
    '',
    '## Deployment commands',
    '',
    `The deployment ID is \`${id}\` (one active deployment per namespace and service).`,
    '',
    '```bash',
    `shipwatch status ${id}                           # phase, rollout, traffic split, firing alerts`,
    `shipwatch timeline ${id} --follow                # every event of the release, live`,
    `shipwatch rollback ${id} --reason "HighErrorRate firing since 10:42"`,
    '```',
    '',
    '## Common Alerts',
    '',
    ...spec.watch.rules.map((rule) => section(spec, monitored, rule, id)),
    '## Rollback Procedure',
    '',
    `Within the watch window, one command rolls back (rollout undo, verify old pods, migration rollback${spec.migrations?.rollbackCommand ? '' : ' if configured'}, smoke suite on the old version, notifications, report):`,
    '',
    '```bash',
    `shipwatch rollback ${id} --reason "<what you saw>"`,
    `shipwatch timeline ${id} --follow`,
    '```',
    '',
    'By hand, as the seed does it (outside a watch window, or if shipwatch is unavailable):',
    '',
    '```bash',
    `kubectl rollout undo deployment/${spec.kubernetes.deployment} ${k8s}`,
    `kubectl rollout status deployment/${spec.kubernetes.deployment} ${k8s}`,
    `kubectl get pods ${k8s} -l app=${spec.service}`,
    ...(spec.migrations?.rollbackCommand ? [`# migration rollback, with the previous image: ${spec.migrations.rollbackCommand.join(' ')}`] : []),
    '```',
    '',
  ].join('\n');
}
