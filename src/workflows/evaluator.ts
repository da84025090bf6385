/**
 * The watch evaluator: one long-lived workflow per Prometheus, interval and shard (a share of the
 * windows by the hash of their workflow IDs, ./evaluator-messages.ts) that watches those windows at
 * once. At fixed times (multiples of the interval since the epoch, plus its shard's phase of the
 * interval since EVALUATOR_PHASES_PATCH; an evaluator from before patch `evaluator-grid` counts
 * from its start; lateness never adds up to drift) it runs ONE evaluation activity (a local one in runs of patch `evaluator-local-activity` only, see EVALUATOR_ACTIVITY_AGAIN_PATCH;
 * since EVALUATOR_WAITS_PATCH scheduled a slot ahead, waiting in the worker) with one query per distinct
 * rule expression across all windows, then signals only the windows whose alert state changed,
 * plus each window's periodic heartbeat so a window can tell it is still watched. Deployment
 * windows register on entering their watch (signal, or start this as an abandoned child) and
 * unregister when it ends; with no window left it closes. It continues as new when its history
 * grows, or what it has sent (EVALUATOR_INPUT_BUDGET), carrying its registry. The `for`, page and rollback decisions are not made here: each
 * deployment applies ./alert-evaluator.ts to the evaluations it is sent.
 */
import { allHandlersFinished, condition, continueAsNew, getExternalWorkflowHandle, isCancellation, patched, proxyActivities, proxyLocalActivities, setHandler, sleep, workflowInfo } from '@temporalio/workflow';
import type { DeploymentActivities } from '../activities';
import { WATCH_CHECK, slotEvaluation } from '../activities/options';
import type { RuleEvaluation } from '../activities/types';
import type { AlertQuery } from '../spec/types';
import { evaluatorStatusQuery, registerWatchSignal, unregisterWatchSignal, watchReportSignal } from './evaluator-messages';
import type { EvaluationInput, EvaluatorInput, RulesWanted, WatchReport } from './evaluator-messages';
import { EVALUATION_PHASES, FOUR_PHASES, distinctQueries, enterPhase, heartbeatOffsetMs, newEvaluatorState, nextSlot, phaseOffsetMs, register, reportsFor, resumeEvaluator, unregister, windowCount } from './evaluator-plan';
import type { EvaluatorState } from './evaluator-plan';

/** History length at which a run hands over (continue-as-new) at the next slot. */
export const EVALUATOR_HISTORY_BUDGET = 4_000;
/**
 * Evaluation input and reports (their JSON, in characters) a run sends before it hands over
 * (continue-as-new) at the next slot. The SDK's core keeps each command's arguments (an evaluation's every rule of the
 * shard's windows, each report) for as long as the run is cached: at 10,000 windows a shard's
 * evaluation input is about 225 KB, so without a budget a run held 7 MB more per 30 s across the
 * 32 shards until its 4,000 events (docs/benchmarks.md, Session 8). A local evaluation's answers
 * (its marker) count too. 1 MB: a run of a 10,000-window
 * fleet's shard hands over every few minutes, one of a small fleet after its 4,000 events as before.
 */
export const EVALUATOR_INPUT_BUDGET = 1_000_000;
/** Evaluators started (or continued) since this patch count what they send and hand over at EVALUATOR_INPUT_BUDGET. */
export const EVALUATOR_INPUT_BUDGET_PATCH = 'evaluator-input-budget';
/** Reports signalled per workflow task. */
export const SIGNALS_PER_TASK = 500;

/**
 * Evaluators started (or continued) since this patch evaluate in a local activity: run by the
 * worker that runs the evaluator's workflow task, inside that task, its result recorded as a
 * marker. One workflow task per shard per slot instead of two, no activity task through the
 * server, and the evaluation's input (every rule of the shard's windows) not written to the
 * history (docs/benchmarks.md, Session 12).
 */
export const EVALUATOR_LOCAL_PATCH = 'evaluator-local-activity';
/**
 * Evaluators started (or continued) since this patch evaluate in an activity again, as before
 * EVALUATOR_LOCAL_PATCH (runs recorded with that patch replay it). A local activity's result needs
 * its workflow held in the worker's sticky cache until it completes, and every shard of every
 * Prometheus evaluates at the same instant: with fewer cache places than evaluators at work (a
 * worker caching none, as the tests' uncached workers do, or more than
 * SHIPWATCH_MAX_CACHED_EVALUATORS evaluators on one worker) the SDK's core evicts runs with their
 * local activity in flight and drops its result, and the evaluator never finishes a slot. An
 * activity has no such limit (docs/benchmarks.md, Session 12).
 */
export const EVALUATOR_ACTIVITY_AGAIN_PATCH = 'evaluator-activity-again';
/**
 * Evaluators started (or continued) since this patch give each window a heartbeat slot by a hash
 * of its ID, and send a slot's heartbeats at the shard's own offset in the interval, not with the
 * slot's changes (./evaluator-plan.ts, heartbeatPhase and heartbeatOffsetMs).
 */
export const EVALUATOR_HEARTBEAT_SPREAD_PATCH = 'evaluator-heartbeat-spread';
/**
 * Evaluators started (or continued) since this patch give a new window the heartbeat slot fewest
 * of their windows have (./evaluator-plan.ts, evenHeartbeatPhase), and a window that registers
 * again keeps its slot; windows registered before keep the slot the hash gave them.
 */
export const EVALUATOR_HEARTBEAT_EVEN_PATCH = 'evaluator-heartbeat-even';
/**
 * Evaluators started (or continued) since this patch evaluate in `evaluateWatchRules`, sending
 * their rules with a key once per run and whenever they change, and otherwise the key alone: a
 * slot's input is a few bytes instead of every rule of the shard's windows (EvaluationInput). A
 * worker that does not keep them answers RulesWanted, and the slot asks again with the rules.
 */
export const EVALUATOR_RULES_BY_KEY_PATCH = 'evaluator-rules-by-key';
/**
 * Evaluators started (or continued) since this patch schedule a slot's evaluation as soon as they
 * have read the slot before, and the activity waits in the worker until its slot
 * (`evaluateWatchRulesAtSlot`): per shard and slot, one activity and one workflow task through the
 * server, where there were a timer, its workflow task, the activity and a second workflow task
 * (docs/benchmarks.md, Session 15). Its queries are those of the windows registered when it was
 * scheduled: a window that registers (or changes its rules) meanwhile is evaluated from the next
 * slot, not told its rules had no answer (reportsFor, askedOnly). An answer that comes before its
 * slot (a worker whose clock runs behind, or one set not to wait) is held until the slot. Lateness
 * is counted when the answers reach the evaluator, not when the evaluation starts.
 */
export const EVALUATOR_WAITS_PATCH = 'evaluator-evaluation-waits';
/**
 * Evaluators started (or continued) since this patch evaluate in their shard's phase of the
 * interval (./evaluator-plan.ts, FOUR_PHASES and enterPhase): a quarter of the shards at each
 * quarter, where every shard evaluated at the interval's multiples. A running evaluator moves
 * to its phase when it continues as new.
 */
export const EVALUATOR_PHASES_PATCH = 'evaluator-phases';
/**
 * Evaluators started (or continued) since this patch evaluate in six phases of the interval, not
 * four (./evaluator-plan.ts, EVALUATION_PHASES): each phase's queries, Prometheus's answers and
 * the evaluators' work on them a sixth of the fleet's, at 0.8 queries/s for the seed's rules
 * instead of 0.53. A running evaluator moves to its new phase when it continues as new
 * (enterPhase: no slot evaluated twice, none skipped for more than the shift).
 */
export const EVALUATOR_SIX_PHASES_PATCH = 'evaluator-six-phases';

type Evaluate = Pick<DeploymentActivities, 'evaluateAlertRules' | 'evaluateWatchRules' | 'evaluateWatchRulesAtSlot'>;
/** An evaluation by key (patch evaluator-rules-by-key): at once, or waiting in the worker for its slot. */
type EvaluateByKey = (input: EvaluationInput) => Promise<RuleEvaluation[] | RulesWanted>;
const { evaluateAlertRules, evaluateWatchRules } = proxyActivities<Evaluate>(WATCH_CHECK);
const { evaluateAlertRules: evaluateLocally } = proxyLocalActivities<Evaluate>({ startToCloseTimeout: WATCH_CHECK.startToCloseTimeout!, retry: WATCH_CHECK.retry! });

export async function watchEvaluatorWorkflow(input: EvaluatorInput): Promise<void> {
  // On the grid: slots at multiples of the interval, evaluated at their own instant (shards' queries share answers).
  const onGrid = patched('evaluator-grid');
  const inputBudget = patched(EVALUATOR_INPUT_BUDGET_PATCH);
  const local = !patched(EVALUATOR_ACTIVITY_AGAIN_PATCH) && patched(EVALUATOR_LOCAL_PATCH);
  const evaluate = local ? evaluateLocally : evaluateAlertRules;
  const byKey = patched(EVALUATOR_RULES_BY_KEY_PATCH);
  const waits = patched(EVALUATOR_WAITS_PATCH);
  const { evaluateWatchRulesAtSlot } = proxyActivities<Evaluate>(slotEvaluation(input.intervalMs));
  const atSlot: EvaluateByKey = (i) => evaluateWatchRulesAtSlot({ ...i, atMs: i.atMs ?? Date.now() });
  /** The rules last sent with their key in this run (by key): a slot asking the very same rule objects sends the key alone. */
  let sentRules: { queries: AlertQuery[]; key: string } | undefined;
  let keys = 0;
  /** What this run has sent as command arguments (evaluation inputs, reports), in JSON characters. */
  let spent = 0;
  const state: EvaluatorState = input.carried !== undefined ? resumeEvaluator(input.carried) : newEvaluatorState({ prometheusUrl: input.prometheusUrl, intervalMs: input.intervalMs, nowMs: Date.now(), onGrid });
  const me = workflowInfo().workflowId;
  if (onGrid && patched(EVALUATOR_PHASES_PATCH)) enterPhase(state, phaseOffsetMs(me, state.intervalMs, patched(EVALUATOR_SIX_PHASES_PATCH) ? EVALUATION_PHASES : FOUR_PHASES), Date.now());
  // Heartbeats spread: each window's slot by a hash of its ID, and sent at the shard's own offset after the slot (changes at once).
  const spread = patched(EVALUATOR_HEARTBEAT_SPREAD_PATCH);
  // New windows' heartbeat slots evenly over the cycle (each slot ⌊n/slots⌋ or ⌈n/slots⌉ windows), not by the hash alone.
  const even = spread && patched(EVALUATOR_HEARTBEAT_EVEN_PATCH);
  for (const reg of input.initial ?? []) register(state, reg, { spread, even });
  setHandler(registerWatchSignal, (reg) => register(state, reg, { spread, even }));
  setHandler(unregisterWatchSignal, ({ workflowId }) => unregister(state, workflowId));
  setHandler(evaluatorStatusQuery, () => ({
    windows: windowCount(state),
    ruleSets: Object.keys(state.ruleSets).length,
    distinctQueries: distinctQueries(state).length,
    evaluations: state.evaluations,
    lateness: state.lateness,
    signalsSent: state.signalsSent,
    runs: state.runs,
  }));

  /** Signals reports, in chunks: one workflow task completes at most SIGNALS_PER_TASK commands (10,000 windows registering at once would be one huge task). */
  async function send(reports: { workflowId: string; report: WatchReport }[]): Promise<void> {
    for (let from = 0; from < reports.length; from += SIGNALS_PER_TASK) {
      const chunk = reports.slice(from, from + SIGNALS_PER_TASK);
      if (inputBudget) for (const r of chunk) spent += JSON.stringify(r.report).length;
      const sent = await Promise.allSettled(chunk.map((r) => getExternalWorkflowHandle(r.workflowId).signal(watchReportSignal, r.report)));
      state.signalsSent += chunk.length;
      // A window that cannot be signalled has closed: forget it (a live one re-registers when it hears nothing).
      sent.forEach((s, i) => {
        if (s.status === 'rejected') unregister(state, chunk[i]!.workflowId);
      });
    }
  }

  /** One slot's evaluation by key (patch evaluator-rules-by-key): the rules only when they are new to this run, or to the worker. */
  async function evaluateByKey(queries: AlertQuery[], atMs: { atMs?: number }, ask: EvaluateByKey): Promise<RuleEvaluation[]> {
    // The same rules (the same objects: the registry keeps a rule set's objects while any window has it) go by their key alone.
    const previous = sentRules;
    const same = previous !== undefined && previous.queries.length === queries.length && previous.queries.every((q, i) => q === queries[i]);
    sentRules = same ? previous : { queries, key: `${workflowInfo().runId}/${++keys}` };
    const { key } = sentRules;
    if (!same) spent += JSON.stringify(queries).length;
    const answered = await ask({ prometheusUrl: state.prometheusUrl, rulesKey: key, ...(same ? {} : { rules: queries }), ...atMs });
    if (Array.isArray(answered)) return answered;
    // A worker that does not keep them (another process was sent them, or it restarted): again, with the rules.
    spent += JSON.stringify(queries).length;
    const again = await ask({ prometheusUrl: state.prometheusUrl, rulesKey: key, rules: queries, ...atMs });
    if (!Array.isArray(again)) throw new Error(`the evaluation was sent its rules and still asked for them: ${again.rulesWanted}`);
    return again;
  }

  for (;;) {
    const slot = nextSlot(state, Date.now());
    const at = state.originMs + slot * state.intervalMs;
    // Waiting in the activity (patch evaluator-evaluation-waits), not here.
    if (!waits && at > Date.now()) await sleep(at - Date.now());
    if (windowCount(state) === 0) {
      // Nobody to watch: close (a window registering meanwhile starts a new evaluator).
      await condition(allHandlersFinished);
      if (windowCount(state) === 0) return;
    }
    const slotDone = () => {
      state.k = slot;
      state.evaluations++;
      state.lateness = [...state.lateness.slice(-99), Date.now() - at];
    };
    if (!waits) slotDone();
    const queries = distinctQueries(state);
    const atMs = onGrid ? { atMs: at } : {};
    let answers: RuleEvaluation[] | { error: string };
    try {
      if (byKey) {
        answers = await evaluateByKey(queries, atMs, waits ? atSlot : evaluateWatchRules);
      } else {
        if (inputBudget) spent += JSON.stringify(queries).length;
        answers = await evaluate({ prometheusUrl: state.prometheusUrl, rules: queries, ...atMs });
        // A local activity's answers are a marker's: the run holds them too.
        if (local) spent += JSON.stringify(answers).length;
      }
    } catch (err) {
      if (isCancellation(err)) throw err;
      answers = { error: err instanceof Error ? err.message : String(err) };
    }
    if (waits) {
      // An answer before its slot (a worker whose clock runs behind, or one set not to wait) is held until the slot.
      if (at > Date.now()) await sleep(at - Date.now());
      slotDone();
    }
    const reports = reportsFor(state, { slot, queries, answers, evaluator: me, askedOnly: waits });
    // Spread: heartbeats that change nothing wait for the shard's offset; the rest leave now.
    const heartbeats = spread ? reports.filter((r) => r.heartbeatOnly) : [];
    await send(heartbeats.length > 0 ? reports.filter((r) => !r.heartbeatOnly) : reports);
    if (heartbeats.length > 0) {
      const heartbeatAt = at + heartbeatOffsetMs(me, state.intervalMs);
      if (heartbeatAt > Date.now()) await sleep(heartbeatAt - Date.now());
      // Not to a window that left (or registered anew) meanwhile.
      await send(heartbeats.filter((r) => state.windows[r.workflowId]?.window === r.report.window));
    }
    const info = workflowInfo();
    if (info.historyLength >= EVALUATOR_HISTORY_BUDGET || info.continueAsNewSuggested || (inputBudget && spent >= EVALUATOR_INPUT_BUDGET)) {
      await condition(allHandlersFinished);
      return continueAsNew<typeof watchEvaluatorWorkflow>({ prometheusUrl: state.prometheusUrl, intervalMs: state.intervalMs, carried: state });
    }
  }
}
