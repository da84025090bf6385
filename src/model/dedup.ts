/**
 * Pager dedup keys. A pager (PagerDuty, Opsgenie, a generic webhook) folds notifications with the
 * same key into one incident, so a key must name exactly one thing to wake someone for: this
 * deployment run (the workflow ID is the same for every deployment of a service, so the first run
 * ID is part of the key), the kind of page, and what it is about (the alert rule, "decision",
 * "blind"). Two deployments of a service, or two different pages of one deployment, never share a key.
 */

export interface DedupParts {
  /** The workflow ID (`deploy-<namespace>-<service>`). */
  deploymentId: string;
  /** The deployment's first run ID: unique per deployment, kept across continue-as-new. */
  runId?: string;
  /** The notification kind ("paged", "failed", …). */
  kind: string;
  /** What the page is about within its kind: an alert rule, "decision:<rule>", "blind". */
  about?: string;
}

export function dedupKey(parts: DedupParts): string {
  return [parts.deploymentId, parts.runId, parts.kind, parts.about].filter((p): p is string => p !== undefined && p !== '').join(':');
}
