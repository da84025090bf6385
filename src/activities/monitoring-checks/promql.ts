/**
 * PromQL compared by meaning, not by spelling: Prometheus's /api/v1/rules prints a rule's query as
 * it parsed it (its own spacing, durations, quotes), so the spec's expression and an installed one
 * are compared as canonical syntax trees (lezer-promql, Prometheus's grammar), and an alert
 * condition `(expr) op threshold` is split back into its expression, operator and threshold.
 */
import { parser } from '@prometheus-io/lezer-promql';
import { parseDuration } from '../../spec/duration';

/** A node of lezer's tree (its type, without depending on @lezer/common directly). */
type SyntaxNode = ReturnType<typeof parser.parse>['topNode'];

const COMPARISONS: Record<string, '>' | '<' | '>=' | '<=' | '==' | '!='> = { Gtr: '>', Lss: '<', Gte: '>=', Lte: '<=', EqlC: '==', Neq: '!=' };

function leafText(name: string, text: string): string {
  if (name === 'StringLiteral') {
    const quote = text[0];
    const body = text.slice(1, -1);
    if (quote === '`') return JSON.stringify(body);
    if (quote === "'") return JSON.stringify(body.replace(/\\'/g, "'").replace(/"/g, '\\"'));
    return JSON.stringify(JSON.parse(text) as string);
  }
  if (name.startsWith('NumberDurationLiteral')) {
    const n = Number(text);
    if (!Number.isNaN(n)) return String(n);
    const ms = parseDuration(text);
    return ms === undefined ? text : `${ms}ms`;
  }
  return text;
}

/** Canonical form of a node: names and normalised leaves; parentheses, matcher order and modifier position do not count. */
function canonical(node: SyntaxNode, source: string): string {
  if (node.name === 'ParenExpr') {
    const inner = node.firstChild;
    return inner ? canonical(inner, source) : '';
  }
  const children: string[] = [];
  for (let child = node.firstChild; child; child = child.nextSibling) children.push(canonical(child, source));
  if (children.length === 0) return `${node.name}:${leafText(node.name, source.slice(node.from, node.to))}`;
  if (node.name === 'LabelMatchers' || node.name === 'AggregateExpr' || node.name === 'GroupingLabels') children.sort();
  return `${node.name}(${children.join(',')})`;
}

function parseTop(expr: string): SyntaxNode | undefined {
  const tree = parser.parse(expr);
  let broken = false;
  tree.iterate({
    enter(n) {
      if (n.type.isError) broken = true;
    },
  });
  if (broken) return undefined;
  let top = tree.topNode.firstChild ?? undefined;
  while (top?.name === 'ParenExpr' && top.firstChild) top = top.firstChild;
  return top;
}

/** The canonical form of an expression, or undefined when it does not parse. */
export function canonicalPromql(expr: string): string | undefined {
  const top = parseTop(expr);
  return top ? canonical(top, expr) : undefined;
}

/** True when both expressions parse to the same tree. */
export function samePromql(a: string, b: string): boolean {
  const ca = canonicalPromql(a);
  return ca !== undefined && ca === canonicalPromql(b);
}

export interface AlertCondition {
  /** The expression compared (without the comparison), as written in the source. */
  expr: string;
  op: '>' | '<' | '>=' | '<=' | '==' | '!=';
  threshold: number;
}

/** Splits `(expr) > 0.05` (or `expr > 0.05`, `0.05 < expr`) into its parts; undefined for other shapes. */
export function splitCondition(query: string): AlertCondition | undefined {
  const top = parseTop(query);
  if (!top || top.name !== 'BinaryExpr') return undefined;
  const left = top.firstChild;
  const opNode = left?.nextSibling;
  // `> bool` adds a BoolModifier node between the operator and the right-hand side.
  let right = opNode?.nextSibling;
  while (right && right.name === 'BoolModifier') right = right.nextSibling;
  if (!left || !opNode || !right) return undefined;
  const op = COMPARISONS[opNode.name];
  if (!op) return undefined;
  const number = (n: SyntaxNode): number | undefined => {
    let node: SyntaxNode | null = n;
    while (node && node.name === 'ParenExpr') node = node.firstChild;
    if (!node || !node.name.startsWith('NumberDurationLiteral')) return undefined;
    const value = Number(query.slice(node.from, node.to));
    return Number.isNaN(value) ? undefined : value;
  };
  const unwrap = (n: SyntaxNode): string => {
    let node: SyntaxNode = n;
    while (node.name === 'ParenExpr' && node.firstChild) node = node.firstChild;
    return query.slice(node.from, node.to);
  };
  const rightNumber = number(right);
  if (rightNumber !== undefined) return { expr: unwrap(left), op, threshold: rightNumber };
  const leftNumber = number(left);
  const flipped: Record<AlertCondition['op'], AlertCondition['op']> = { '>': '<', '<': '>', '>=': '<=', '<=': '>=', '==': '==', '!=': '!=' };
  if (leftNumber !== undefined) return { expr: unwrap(right), op: flipped[op], threshold: leftNumber };
  return undefined;
}
