/**
 * Many windows' alert rules asked of Prometheus in a few queries. Rules that differ only in the
 * values of their label matchers (one service's `namespace="a"`, another's `namespace="b"`) have
 * one *shape*; a shape is asked once, with each varying matcher widened to every series that has
 * the label (`namespace!=""`) and every aggregation also grouped by the varying labels, and each
 * member then takes the series its own matchers select. So the queries sent grow with the number
 * of distinct rule shapes, not with the number of services watched, and a shape's query is the
 * same text whichever services it is asked for: evaluators that each watch a share of the fleet
 * (src/workflows/evaluator.ts) ask Prometheus the same few queries, which the metrics adapter
 * sends once per instant (for those asks every widenable label is widened, `Widen`). Where a
 * member's value matches the empty string (a series without the label), or its pattern is one
 * JavaScript and RE2 may read differently, the matcher is widened to the union of the members'
 * values instead.
 *
 * The rewrite is used only where each member's series are exactly those its own query would give:
 * every selector carries every varying label, a member gives one label one value everywhere, and
 * nothing in the expression makes or drops labels behind the grouping's back (`vector()`,
 * `scalar()`, `absent()`, `label_replace`, `count_values`, `without`, `on`/`ignoring`). Any other
 * expression is asked alone, as before. Pure: the metrics adapter (./metrics.ts) sends the queries.
 */
import { parser } from '@prometheus-io/lezer-promql';

type MatchOp = '=' | '=~' | '!=' | '!~';

interface Matcher {
  label: string;
  op: MatchOp;
  value: string;
  selector: number;
  /** Spans of the operator and of the quoted value in the expression. */
  opFrom: number;
  opTo: number;
  valueFrom: number;
  valueTo: number;
}

interface Aggregation {
  /** End of the aggregation's operator (`sum`), where a `by (…)` is inserted. */
  opTo: number;
  /** Its `by (…)` list and the span of the parenthesised list, if it has one. */
  by?: { labels: string[]; from: number; to: number };
}

interface Parsed {
  expr: string;
  /** The expression with every matcher value blanked: equal shapes differ only in values. */
  shape: string;
  matchers: Matcher[];
  selectors: number;
  aggregations: Aggregation[];
  /** Why it can only be asked alone; undefined when it may join a batch. */
  alone?: string;
}

/** Functions that make, drop or rewrite labels, so a grouped query would not split them per member. */
const LABEL_CHANGING = new Set(['vector', 'scalar', 'absent', 'absent_over_time', 'label_replace', 'label_join', 'info']);

const OPS: Record<string, MatchOp> = { EqlSingle: '=', EqlRegex: '=~', Neq: '!=', NeqRegex: '!~' };

/** A backslash, or a control character (below U+0020), which JSON does not read unescaped. */
const ESCAPED_OR_CONTROL = /\\|[^\u0020-\uffff]/;

/** The value of a double-quoted or backquoted PromQL string; undefined for forms not handled here. */
function unquote(literal: string): string | undefined {
  if (literal.startsWith('`')) return literal.slice(1, -1);
  if (!literal.startsWith('"')) return undefined;
  // Without an escape or a control character JSON reads the text between the quotes as it is.
  if (!ESCAPED_OR_CONTROL.test(literal)) return literal.slice(1, -1);
  try {
    return JSON.parse(literal) as string;
  } catch {
    return undefined;
  }
}

/** What the lezer parser makes of an expression (the tree walked once). */
export function parseExpression(expr: string): Parsed {
  const tree = parser.parse(expr);
  const matchers: Matcher[] = [];
  const aggregations: Aggregation[] = [];
  let selectors = 0;
  let alone: string | undefined;
  tree.iterate({
    enter(ref) {
      if (ref.type.isError) alone ??= 'does not parse';
      switch (ref.name) {
        case 'VectorSelector':
          selectors++;
          break;
        case 'QuotedLabelMatcher':
          alone ??= 'quoted label names';
          break;
        case 'UnquotedLabelMatcher': {
          const node = ref.node;
          const name = node.getChild('LabelName');
          const op = node.getChild('MatchOp');
          const lit = node.getChild('StringLiteral');
          const opName = op?.firstChild?.name;
          const value = lit ? unquote(expr.slice(lit.from, lit.to)) : undefined;
          if (!name || !op || !lit || !opName || !OPS[opName] || value === undefined) {
            alone ??= 'a label matcher not handled';
            break;
          }
          matchers.push({ label: expr.slice(name.from, name.to), op: OPS[opName], value, selector: selectors - 1, opFrom: op.from, opTo: op.to, valueFrom: lit.from, valueTo: lit.to });
          break;
        }
        case 'FunctionIdentifier': {
          const fn = expr.slice(ref.from, ref.to);
          if (LABEL_CHANGING.has(fn)) alone ??= `${fn}() changes labels`;
          break;
        }
        case 'MatchingModifierClause':
          alone ??= 'on()/ignoring() vector matching';
          break;
        case 'AggregateExpr': {
          const node = ref.node;
          const op = node.getChild('AggregateOp');
          const modifier = node.getChild('AggregateModifier');
          if (!op) break;
          if (op.firstChild?.name === 'CountValues') alone ??= 'count_values makes a label';
          if (modifier?.getChild('Without')) alone ??= 'aggregation without()';
          const list = modifier?.getChild('GroupingLabels');
          aggregations.push({ opTo: op.to, ...(list ? { by: { labels: list.getChildren('LabelName').map((l) => expr.slice(l.from, l.to)), from: list.from, to: list.to } } : {}) });
          break;
        }
      }
    },
  });
  if (selectors === 0) alone ??= 'no selector';
  return { expr, shape: shapeOf(expr, matchers), matchers, selectors, aggregations, ...(alone ? { alone } : {}) };
}

/** The expression with every matcher's value blanked. */
function shapeOf(expr: string, matchers: Matcher[]): string {
  let shape = '';
  let at = 0;
  for (const m of matchers) {
    shape += `${expr.slice(at, m.valueFrom)}\u0000`;
    at = m.valueTo;
  }
  return shape + expr.slice(at);
}

/** A string literal's span, its quotes included. */
interface Span {
  from: number;
  to: number;
}

/**
 * An expression's string literals as lezer-promql's tokenizer reads them (`"…"` and `'…'` end at
 * their next unescaped quote, a backslash escaping any character; a backquoted one at the next
 * backquote; `#` outside a literal starts a comment to the end of the line), and the expression
 * with every literal emptied (`key`). The parser's tree depends on its tokens' kinds, not on what
 * a literal holds: two expressions with one key parse to the same tree. Undefined when a literal
 * does not end (the tokenizer then ends it at a newline or gives an error).
 */
function literalsOf(expr: string): { key: string; spans: Span[] } | undefined {
  const spans: Span[] = [];
  let key = '';
  let copied = 0;
  let i = 0;
  while (i < expr.length) {
    const c = expr[i]!;
    if (c === '#') {
      const end = expr.indexOf('\n', i);
      i = end < 0 ? expr.length : end;
      continue;
    }
    if (c !== '"' && c !== "'" && c !== '`') {
      i++;
      continue;
    }
    let j = i + 1;
    if (c === '`') j = expr.indexOf('`', j);
    else while (j < expr.length && expr[j] !== c && expr[j] !== '\n') j += expr[j] === '\\' ? 2 : 1;
    if (j < 0 || j >= expr.length || expr[j] !== c) return undefined;
    spans.push({ from: i, to: j + 1 });
    key += expr.slice(copied, i + 1) + c;
    copied = i = j + 1;
  }
  return { key: key + expr.slice(copied), spans };
}

/** One parsed expression of a key, and which of its literals each matcher's value is. */
interface Template {
  parsed: Parsed;
  spans: Span[];
  literalOf: number[];
  /** Whether every literal is a matcher's value: then each expression of the key has the template's shape. */
  onlyMatchers: boolean;
}

/**
 * Parsed expressions by key (`literalsOf`); `null` for a key whose expressions are parsed each
 * time. Each evaluation plans every rule of every window it watches, and a fleet's rules are a
 * few shapes asked with each service's values (1,000 windows: 4,000 expressions, 4 keys), so
 * the parser runs once per shape. Bounded: past the bound a new key's expressions are parsed.
 */
const templates = new Map<string, Template | null>();
const TEMPLATES_MAX = 10_000;

/** The template of a parsed expression; null when its parse depended on a literal's content (a matcher value `unquote` does not read) or a matcher's value is not one literal. */
function templateOf(parsed: Parsed, spans: Span[]): Template | null {
  if (spans.some((s) => unquote(parsed.expr.slice(s.from, s.to)) === undefined)) return null;
  const literalOf = parsed.matchers.map((m) => spans.findIndex((s) => s.from === m.valueFrom && s.to === m.valueTo));
  return literalOf.includes(-1) ? null : { parsed, spans, literalOf, onlyMatchers: new Set(literalOf).size === spans.length };
}

/** The matchers' values of `expr`, whose key is the template's; undefined if one does not unquote (the parser would leave the matcher out). */
function valuesOf(t: Template, expr: string, spans: Span[]): string[] | undefined {
  const values: string[] = [];
  for (const k of t.literalOf) {
    const value = unquote(expr.slice(spans[k]!.from, spans[k]!.to));
    if (value === undefined) return undefined;
    values.push(value);
  }
  return values;
}

/** `expr`, whose key is the template's, parsed from the template: its own values and positions; undefined if a matcher's value does not unquote (the parser would leave the matcher out). */
function fromTemplate(t: Template, expr: string, spans: Span[]): Parsed | undefined {
  const values = valuesOf(t, expr, spans);
  if (values === undefined) return undefined;
  // A position outside the literals moves by how much longer this expression's literals before it are.
  const shift = (pos: number): number => {
    let moved = pos;
    t.spans.forEach((s, k) => {
      if (s.to <= pos) moved += spans[k]!.to - spans[k]!.from - (s.to - s.from);
    });
    return moved;
  };
  const matchers = t.parsed.matchers.map((m, p): Matcher => ({ ...m, value: values[p]!, opFrom: shift(m.opFrom), opTo: shift(m.opTo), valueFrom: spans[t.literalOf[p]!]!.from, valueTo: spans[t.literalOf[p]!]!.to }));
  const aggregations = t.parsed.aggregations.map((a): Aggregation => ({ opTo: shift(a.opTo), ...(a.by ? { by: { labels: [...a.by.labels], from: shift(a.by.from), to: shift(a.by.to) } } : {}) }));
  const { selectors, alone } = t.parsed;
  return { expr, shape: shapeOf(expr, matchers), matchers, selectors, aggregations, ...(alone ? { alone } : {}) };
}

/** `parseExpression(expr)`, from the template of its key when one was parsed before. */
export function parseByShape(expr: string): Parsed {
  return parseWithLiterals(expr, literalsOf(expr));
}

/** parseByShape, given the expression's literals (`literalsOf`) already read. */
function parseWithLiterals(expr: string, literals: ReturnType<typeof literalsOf>): Parsed {
  if (!literals) return parseExpression(expr);
  const known = templates.get(literals.key);
  if (known) return fromTemplate(known, expr, literals.spans) ?? parseExpression(expr);
  const parsed = parseExpression(expr);
  if (known === undefined && templates.size < TEMPLATES_MAX) templates.set(literals.key, templateOf(parsed, literals.spans));
  return parsed;
}

/**
 * What a plan needs of one expression: its shape, its matchers' values (aligned with the shape's
 * matchers), and a parse of its shape (its own, or its key's template: the same labels, operators,
 * selectors, groupings and reason to be asked alone; positions are the template's own).
 */
export interface Facts {
  shape: string;
  values: string[];
  layout: Parsed;
}

/**
 * An expression's facts. When its key's template holds every literal as a matcher's value, only
 * the values are read from it: no parse is built, and the shape is the template's own string (one
 * string per shape, whose hash is computed once; a fresh shape string per expression made grouping
 * 10,000 expressions hash 10,000 strings of 200 characters). Exported for tests.
 */
export function factsOf(expr: string): Facts {
  const literals = literalsOf(expr);
  const known = literals && templates.get(literals.key);
  if (known?.onlyMatchers) {
    const values = valuesOf(known, expr, literals!.spans);
    if (values) return { shape: known.parsed.shape, values, layout: known.parsed };
  }
  const parsed = parseWithLiterals(expr, literals);
  return { shape: parsed.shape, values: parsed.matchers.map((m) => m.value), layout: parsed };
}

/** What a member's series must carry: one condition per varying label. */
export interface SeriesCondition {
  label: string;
  op: '=' | '=~';
  value: string;
}

export interface Batch {
  /** The one query asked for all members. */
  query: string;
  /** Indices (into the planned expressions) of the members. */
  members: number[];
  /** Per member (aligned with `members`), which of the answer's series are its own. */
  conditions: SeriesCondition[][];
}

export interface QueryPlan {
  batches: Batch[];
  /** Indices of expressions asked one by one. */
  alone: number[];
}

const escapeRegex = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** Prometheus anchors its regular expressions; RE2 and JavaScript agree on the plain ones used here, and a pattern JavaScript cannot compile keeps its expression out of batches. */
function anchored(pattern: string): RegExp | undefined {
  try {
    return new RegExp(`^(?:${pattern})$`, 's');
  } catch {
    return undefined;
  }
}

/**
 * A pattern JavaScript and Prometheus's RE2 read alike: no group modifiers (lookarounds, named
 * groups) and no backreferences. Its members are shared out here by JavaScript, so a widened
 * query is used only for these; any other pattern stays in the query, for Prometheus to judge.
 */
function plainPattern(pattern: string): boolean {
  return anchored(pattern) !== undefined && !/\(\?|\\[0-9k]/.test(pattern);
}

/**
 * Which labels of a shape are widened. `varying`: those whose values differ between the members
 * (a batch of one is asked as written). `selectors`: every label the rewrite can widen exactly,
 * varying or not, so the query reads the same whichever services are asked for, one of them too:
 * what several evaluators asking at one instant need to send each shape once. `members`: the
 * varying labels, each to the union of the members' values (`namespace=~"a|b"`), never to every
 * series that has the label: a query of a share of the fleet reads that share, not the fleet.
 */
export type Widen = 'varying' | 'selectors' | 'members';

/**
 * Whether every member names `label` in every selector, one way, in a form the rewrite keeps exact.
 * `at`: the positions of the label's matchers, the same in every member of a shape.
 */
function widenable(label: string, op: MatchOp, at: number[], members: number[], facts: Facts[]): boolean {
  const layout = facts[members[0]!]!.layout;
  if (op !== '=' && op !== '=~') return false;
  if (new Set(at.map((p) => layout.matchers[p]!.selector)).size !== layout.selectors) return false;
  if (at.some((p) => layout.matchers[p]!.op !== op)) return false;
  const compiled = new Set<string>();
  for (const i of members) {
    const values = facts[i]!.values;
    const value = values[at[0]!]!;
    for (const p of at) if (values[p] !== value) return false;
    if (op === '=~' && !compiled.has(value)) {
      if (!anchored(value)) return false;
      compiled.add(value);
    }
  }
  // A regex selects several values in one member: only an aggregation already grouped by the label keeps them apart as the member's own query does.
  return op === '=' || layout.aggregations.every((a) => a.by?.labels.includes(label));
}

/** One shape's members as one query, or undefined when the rewrite would not keep each member's answer exact (or, for one member, would change nothing). */
function batchOf(members: number[], facts: Facts[], exprs: string[], widen: Widen): Batch | undefined {
  const { matchers } = facts[members[0]!]!.layout;
  const firstValues = facts[members[0]!]!.values;
  const varying = matchers.map((_, p) => members.some((i) => facts[i]!.values[p] !== firstValues[p]));
  /** Each label's positions, in the order the label first appears. */
  const positions = new Map<string, number[]>();
  matchers.forEach((m, p) => {
    const at = positions.get(m.label);
    if (at) at.push(p);
    else positions.set(m.label, [p]);
  });
  const labels = new Map<string, MatchOp>();
  for (const [label, at] of positions) {
    if (widen !== 'selectors' && !at.some((p) => varying[p])) continue;
    const op = matchers[at[0]!]!.op;
    if (widenable(label, op, at, members, facts)) labels.set(label, op);
    // A label whose values differ must be widened, or the members cannot share a query.
    else if (at.some((p) => varying[p])) return undefined;
  }
  const firstExpr = exprs[members[0]!]!;
  if (labels.size === 0) return members.length > 1 ? { query: firstExpr, members, conditions: members.map(() => []) } : undefined;
  // The first member's own parse: the edits are made at its positions.
  const first = parseByShape(firstExpr);
  const grouped = [...labels].filter(([, op]) => op === '=').map(([label]) => label);
  const edits: { from: number; to: number; text: string }[] = [];
  // Per label, what its matchers become: each member gives a widened label one value (widenable), so every position of it reads alike.
  const widenedTo = new Map<string, string | undefined>();
  const matcherOf = (op: MatchOp, p: number): string | undefined => {
    const values = [...new Set(members.map((i) => facts[i]!.values[p]!))];
    if (widen !== 'members' && values.every((v) => (op === '=' ? v !== '' : plainPattern(v) && !anchored(v)!.test('')))) return undefined;
    return JSON.stringify(values.map((v) => (op === '=' ? escapeRegex(v) : `(?:${v})`)).join('|'));
  };
  first.matchers.forEach((m, p) => {
    if (!labels.has(m.label)) return;
    if (!widenedTo.has(m.label)) widenedTo.set(m.label, matcherOf(m.op, p));
    const union = widenedTo.get(m.label);
    if (union === undefined) return void edits.push({ from: m.opFrom, to: m.valueTo, text: '!=""' });
    if (m.op === '=') edits.push({ from: m.opFrom, to: m.opTo, text: '=~' });
    edits.push({ from: m.valueFrom, to: m.valueTo, text: union });
  });
  if (grouped.length > 0) {
    for (const a of first.aggregations) {
      if (a.by) edits.push({ from: a.by.from, to: a.by.to, text: `(${[...new Set([...a.by.labels, ...grouped])].join(', ')})` });
      else edits.push({ from: a.opTo, to: a.opTo, text: ` by (${grouped.join(', ')}) ` });
    }
  }
  let query = firstExpr;
  for (const e of edits.sort((x, y) => y.from - x.from)) query = query.slice(0, e.from) + e.text + query.slice(e.to);
  const widened = [...labels].map(([label, op]) => ({ label, op: op as '=' | '=~', at: positions.get(label)![0]! }));
  const conditions = members.map((i) => widened.map(({ label, op, at }): SeriesCondition => ({ label, op, value: facts[i]!.values[at]! })));
  return { query, members, conditions };
}

/**
 * Expressions parsed between two pauses of a plan made in slices (about 3 ms of a 2-core box's
 * time at 10,000 windows' rules), and each shape's batch made between two pauses.
 */
export const PARSED_PER_SLICE = 500;

/**
 * The plan, made in steps: it yields after each PARSED_PER_SLICE expressions parsed and after each
 * shape's batch, so a caller can let other work run between them (planQueriesInSlices).
 */
function* planSteps(exprs: string[], widen: Widen): Generator<void, QueryPlan> {
  const facts: Facts[] = [];
  for (let from = 0; from < exprs.length; from += PARSED_PER_SLICE) {
    for (let i = from; i < Math.min(from + PARSED_PER_SLICE, exprs.length); i++) facts.push(factsOf(exprs[i]!));
    yield;
  }
  const shapes = new Map<string, number[]>();
  const alone: number[] = [];
  facts.forEach((f, i) => {
    if (f.layout.alone) return void alone.push(i);
    // Pushed in place: a copy per member made grouping 10,000 expressions quadratic (docs/benchmarks.md, Session 21).
    const members = shapes.get(f.shape);
    if (members) members.push(i);
    else shapes.set(f.shape, [i]);
  });
  const batches: Batch[] = [];
  for (const members of shapes.values()) {
    const batch = members.length > 1 || widen === 'selectors' ? batchOf(members, facts, exprs, widen) : undefined;
    if (batch) batches.push(batch);
    else alone.push(...members);
    yield;
  }
  return { batches, alone: alone.sort((a, b) => a - b) };
}

/** Which expressions are asked together, and how; each index of `exprs` is in exactly one batch or in `alone`. */
export function planQueries(exprs: string[], widen: Widen = 'varying'): QueryPlan {
  const steps = planSteps(exprs, widen);
  for (;;) {
    const step = steps.next();
    if (step.done) return step.value;
  }
}

/**
 * planQueries's plan, made in slices with `pause()` awaited between them: a watch evaluator's
 * phase at 10,000 windows plans 10,000 expressions (130–260 ms on a 2-core box, most of it in one
 * go, with its garbage collection), which in one go would hold up every workflow task and query
 * the worker's thread serves meanwhile (docs/benchmarks.md, Session 21).
 */
export async function planQueriesInSlices(exprs: string[], widen: Widen, pause: () => Promise<void>): Promise<QueryPlan> {
  const steps = planSteps(exprs, widen);
  for (;;) {
    const step = steps.next();
    if (step.done) return step.value;
    await pause();
  }
}

/** One series of an answer, as the batch shares them out. */
type Series = { labels: Record<string, string>; value: number };

const joined = (values: string[]): string => values.join('\u0000');

/**
 * An answer's series by their values of some equality labels, kept per answer (its series array)
 * and label set: the evaluators of one Prometheus share an instant's answer (./metrics.ts), so the
 * fleet's series are grouped once per instant, not once per evaluator.
 */
const indexes = new WeakMap<Series[], Map<string, Map<string, Series[]>>>();

function indexOf(series: Series[], labels: string[]): Map<string, Series[]> {
  let byLabels = indexes.get(series);
  if (!byLabels) indexes.set(series, (byLabels = new Map<string, Map<string, Series[]>>()));
  let index = byLabels.get(joined(labels));
  if (!index) {
    index = new Map<string, Series[]>();
    for (const s of series) {
      const k = joined(labels.map((l) => s.labels[l] ?? ''));
      const list = index.get(k);
      if (list) list.push(s);
      else index.set(k, [s]);
    }
    byLabels.set(joined(labels), index);
  }
  return index;
}

/** How a batch's answer is shared out: its members by their equality values, each with its compiled patterns. */
interface Sharing {
  eqLabels: string[];
  byKey: Map<string, { member: number; patterns: { label: string; re: RegExp | undefined; value: string }[] }[]>;
}

/** Kept per batch: a plan used again (./metrics.ts keeps the watch evaluators' plans) shares out each answer without compiling its patterns again. */
const sharings = new WeakMap<Batch, Sharing>();

function sharingOf(batch: Batch): Sharing {
  const known = sharings.get(batch);
  if (known) return known;
  const first = batch.conditions[0] ?? [];
  const sharing: Sharing = { eqLabels: first.filter((c) => c.op === '=').map((c) => c.label), byKey: new Map() };
  batch.conditions.forEach((conds, member) => {
    const k = joined(conds.filter((c) => c.op === '=').map((c) => c.value));
    const patterns = conds.filter((c) => c.op === '=~').map((c) => ({ label: c.label, re: anchored(c.value), value: c.value }));
    const members = sharing.byKey.get(k);
    if (members) members.push({ member, patterns });
    else sharing.byKey.set(k, [{ member, patterns }]);
  });
  sharings.set(batch, sharing);
  return sharing;
}

/**
 * For each member of `batch` (aligned with `members`), the values of the answer's series that are
 * its own: the series with a member's equality values, from the answer's index (built once per
 * answer), and of those the ones matching its patterns (a widened query returns the whole fleet's
 * series; a member's share is found without going through them all). Values keep the answer's order.
 */
export function distribute(batch: Batch, series: Series[]): number[][] {
  const out = batch.members.map((): number[] => []);
  const { eqLabels, byKey } = sharingOf(batch);
  const index = indexOf(series, eqLabels);
  for (const [k, members] of byKey) {
    for (const s of index.get(k) ?? []) {
      for (const m of members) {
        if (m.patterns.every((p) => (p.re ? p.re.test(s.labels[p.label] ?? '') : (s.labels[p.label] ?? '') === p.value))) out[m.member]!.push(s.value);
      }
    }
  }
  return out;
}
