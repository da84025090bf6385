/**
 * What every monitoring check is built with (the cluster's KubeConfig when there is one, the HTTP
 * dispatcher and timeout for Prometheus and the tracker), and the small helpers they share.
 */
import type { KubeConfig } from '@kubernetes/client-node';
import type { Dispatcher } from 'undici';
import type { MonitoringCheckName, MonitoringCheckResult } from '../../model';
import type { MonitoringCheckInput } from '../types';

export interface MonitoringChecksOptions {
  /** The cluster; without it the checks that need Kubernetes report not_run. */
  kubeConfig?: KubeConfig;
  dispatcher?: Dispatcher;
  /** Per HTTP call to Prometheus or the tracker (default 10s). */
  timeoutMs?: number;
  /**
   * How long the scrape check looks again for new pods Prometheus has not seen yet before it calls
   * them not scraped (default: two of the targets' scrape intervals + 5 s, at most 40 s), and how
   * often (default 2 s).
   */
  scrapeWaitMs?: number;
  scrapePollMs?: number;
}

export function result(check: MonitoringCheckName, checked: string, outcome: Pick<MonitoringCheckResult, 'status' | 'detail'> & { found?: string[] }): MonitoringCheckResult {
  return { check, status: outcome.status, checked, found: outcome.found ?? [], detail: outcome.detail };
}

/** The spec's Prometheus, or why there is none. */
export function prometheusOf(input: MonitoringCheckInput): { url: string; selector: string } | { missing: string } {
  const m = input.spec.metrics;
  if (!m) return { missing: 'the spec has no metrics section (metrics.prometheusUrl): there is no Prometheus to ask' };
  return { url: m.prometheusUrl, selector: m.selector };
}

export function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
