/**
 * The spec's `metrics.selector` (PromQL label matchers such as job="user-management") applied to
 * label sets outside PromQL: the labels of a scrape target.
 */

export interface LabelMatcher {
  name: string;
  op: '=' | '!=' | '=~' | '!~';
  value: string;
}

const MATCHER = /\s*([A-Za-z_][A-Za-z0-9_]*)\s*(=~|!~|!=|=)\s*"((?:[^"\\]|\\.)*)"\s*(?:,|$)/y;

/** Parses `a="x", b=~"y.*"`; undefined when it is not a plain list of matchers. */
export function parseSelector(selector: string): LabelMatcher[] | undefined {
  const out: LabelMatcher[] = [];
  MATCHER.lastIndex = 0;
  const text = selector.trim();
  while (MATCHER.lastIndex < text.length) {
    const m = MATCHER.exec(text);
    if (!m) return undefined;
    out.push({ name: m[1]!, op: m[2] as LabelMatcher['op'], value: JSON.parse(`"${m[3]!}"`) as string });
  }
  return out;
}

/** True when the labels satisfy every matcher (a missing label is the empty string, as in PromQL). */
export function matchesSelector(labels: Record<string, string>, matchers: LabelMatcher[]): boolean {
  return matchers.every((m) => {
    const value = labels[m.name] ?? '';
    switch (m.op) {
      case '=':
        return value === m.value;
      case '!=':
        return value !== m.value;
      case '=~':
        return new RegExp(`^(?:${m.value})$`).test(value);
      case '!~':
        return !new RegExp(`^(?:${m.value})$`).test(value);
    }
  });
}
