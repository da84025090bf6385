/**
 * Offline PromQL syntax check with Prometheus' own Lezer grammar (@prometheus-io/lezer-promql, the
 * parser of the Prometheus web UI). Lezer recovers from errors by inserting error nodes into the
 * tree; the first one is reported with its line and column. This checks syntax only: whether a
 * function gets a range vector, or whether a series exists, is what `validate --online` asks
 * Prometheus. The package ships a CommonJS build, so `require` (jest, tsx, dist) loads it as is.
 */
import { parser } from '@prometheus-io/lezer-promql';

export interface PromqlError {
  /** 1-based line and column of the first error. */
  line: number;
  column: number;
  message: string;
}

function position(expr: string, offset: number): { line: number; column: number } {
  const before = expr.slice(0, offset).split('\n');
  return { line: before.length, column: before[before.length - 1]!.length + 1 };
}

function describe(expr: string, from: number): string {
  const rest = expr.slice(from);
  if (rest.trim() === '') return 'unexpected end of the expression (an operand, a closing bracket or quote is missing)';
  // The grammar knows the function names; an unknown name followed by "(" errors at the "(".
  const name = /([A-Za-z_:][A-Za-z0-9_:]*)\s*$/.exec(expr.slice(0, from))?.[1];
  if (rest.startsWith('(') && name) return `unknown function "${name}"`;
  const token = rest.trimStart().slice(0, 20).split('\n')[0];
  return `unexpected "${token}"`;
}

/** The first syntax error of `expr`, or undefined when it parses. */
export function checkPromql(expr: string): PromqlError | undefined {
  if (expr.trim() === '') return { line: 1, column: 1, message: 'empty expression' };
  const tree = parser.parse(expr);
  let first: number | undefined;
  tree.iterate({
    enter(node) {
      if (first !== undefined) return false;
      if (node.type.isError) {
        first = node.from;
        return false;
      }
      return undefined;
    },
  });
  if (first === undefined) return undefined;
  return { ...position(expr, first), message: describe(expr, first) };
}

/** "invalid PromQL at column 16: unexpected end of the expression …" (line only when multi-line). */
export function formatPromqlError(expr: string, error: PromqlError): string {
  const where = expr.includes('\n') ? `line ${error.line}, column ${error.column}` : `column ${error.column}`;
  return `invalid PromQL at ${where}: ${error.message}`;
}
