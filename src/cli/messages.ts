/** Every sentence the CLI says to a person, in one place. */
export const messages = {
  temporalUnreachable: (address: string, cause: string) =>
    `Cannot reach Temporal at ${address} (${cause.split('\n')[0]}).\n` +
    `Start a local one with 'npm run temporal' (Web UI on http://127.0.0.1:8233), ` +
    `or point shipwatch at yours with TEMPORAL_ADDRESS and TEMPORAL_NAMESPACE (TEMPORAL_API_KEY / TEMPORAL_TLS_* for a secured one).`,
  notFound: (id: string, namespace: string) =>
    `No deployment '${id}' in Temporal namespace '${namespace}'. 'shipwatch list' shows the deployments there; ` +
    `an ID looks like deploy-<namespace>-<service>, or write <namespace>/<service>.`,
  specInvalid: (text: string) => `${text}\nFix the fields above and run 'shipwatch validate -f <spec>' again; nothing was started.`,
  noWorker: (id: string) =>
    `Deployment '${id}' did not answer: no shipwatch worker is polling the task queue. Start one with 'npm run worker' (it keeps the deployment's state; nothing is lost).`,
  alreadyEnded: (id: string) => `Deployment ${id} has already ended; nothing to change. 'shipwatch report ${id}' shows how it ended.`,
  rollbackNeedsReason: 'Say why: shipwatch rollback <id> --reason "error rate doubled after v1.0.0".',
  badDuration: (flag: string, text: string) => `${flag} expects a duration such as "2h" or "30m", not "${text}".`,
  badChoice: (flag: string, choices: readonly string[], text: string) => `${flag} must be one of ${choices.join(', ')}, not "${text}".`,
  badCount: (flag: string, value: unknown) => `${flag} must be a whole number, 1 or more, not "${String(value)}".`,
  noDeploymentsMatch: 'No deployments match.',
  reportWritten: (file: string) => `Report written to ${file}`,
  ended: (id: string, outcome: string) => `Deployment ${id} ended: ${outcome}`,
  started: (id: string, release: string, uiUrl: string) =>
    `Deployment ${id} started: release ${release}.\n  Follow it:   shipwatch timeline ${id} --follow\n  Roll back:   shipwatch rollback ${id} --reason "…"\n  Web UI:      ${uiUrl}`,
} as const;

/** The Web UI page of a workflow on the local dev server, or the UI given by TEMPORAL_UI_URL. */
export function webUiUrl(namespace: string, workflowId: string, env: NodeJS.ProcessEnv = process.env): string {
  const base = (env.TEMPORAL_UI_URL ?? 'http://127.0.0.1:8233').replace(/\/$/, '');
  return `${base}/namespaces/${encodeURIComponent(namespace)}/workflows/${encodeURIComponent(workflowId)}`;
}
