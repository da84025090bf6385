/**
 * When a run of the watch window hands over to the next (continue-as-new), so a 24-hour window
 * at 30-second checks keeps every run's history far below Temporal's limits. Pure.
 */

/** Watch checks per run before continue-as-new (≈11 history events each). */
export const CHECKS_PER_RUN = 120;
/** History length at which a run hands over at the next loop boundary, whatever the count. */
export const HISTORY_BUDGET = 1_600;

export interface RunUsage {
  /** Watch checks this run has done. */
  checksThisRun: number;
  /** Events in this run's history so far. */
  historyLength: number;
  /** Temporal's own hint that the history is getting large. */
  continueAsNewSuggested: boolean;
}

/** The run has spent its budget: hand over at this loop boundary. */
export function runBudgetSpent(usage: RunUsage): boolean {
  return usage.checksThisRun >= CHECKS_PER_RUN || usage.historyLength >= HISTORY_BUDGET || usage.continueAsNewSuggested;
}
