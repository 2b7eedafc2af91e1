/**
 * A unified diff of two texts, line by line (LCS), with `context` unchanged lines around each
 * change. Objects rendered as YAML are small, so the quadratic table is fine. Pure.
 */
export function unifiedDiff(before: string, after: string, context = 3): string {
  const a = splitLines(before);
  const b = splitLines(after);
  const ops = diffLines(a, b);
  if (ops.every((o) => o.op === ' ')) return '';
  const out: string[] = [];
  let i = 0;
  while (i < ops.length) {
    if (ops[i]?.op === ' ') {
      i++;
      continue;
    }
    // A hunk: back up `context` lines, then run until `context`*2 unchanged lines in a row.
    let start = i;
    while (start > 0 && i - start < context && ops[start - 1]?.op === ' ') start--;
    let end = i;
    let quiet = 0;
    while (end < ops.length && quiet <= context * 2) {
      quiet = ops[end]?.op === ' ' ? quiet + 1 : 0;
      end++;
    }
    end = Math.min(ops.length, end - Math.max(0, quiet - context));
    const hunk = ops.slice(start, end);
    const aStart = (ops[start]?.a ?? 0) + 1;
    const bStart = (ops[start]?.b ?? 0) + 1;
    const aLen = hunk.filter((o) => o.op !== '+').length;
    const bLen = hunk.filter((o) => o.op !== '-').length;
    out.push(`@@ -${aStart},${aLen} +${bStart},${bLen} @@`);
    for (const o of hunk) out.push(`${o.op}${o.line}`);
    i = end;
  }
  return out.join('\n');
}

interface Op {
  op: ' ' | '-' | '+';
  line: string;
  /** Index in `a` (for ' ' and '-') or the position in `a` the line is inserted at. */
  a: number;
  b: number;
}

function diffLines(a: readonly string[], b: readonly string[]): Op[] {
  const n = a.length;
  const m = b.length;
  // lcs(i, j): length of the longest common subsequence of a[i..] and b[j..], row-major.
  const table = new Int32Array((n + 1) * (m + 1));
  const lcs = (i: number, j: number): number => table[i * (m + 1) + j] ?? 0;
  for (let i = n - 1; i >= 0; i--)
    for (let j = m - 1; j >= 0; j--)
      table[i * (m + 1) + j] = a[i] === b[j] ? lcs(i + 1, j + 1) + 1 : Math.max(lcs(i + 1, j), lcs(i, j + 1));
  const ops: Op[] = [];
  let i = 0;
  let j = 0;
  while (i < n || j < m) {
    if (i < n && j < m && a[i] === b[j]) {
      ops.push({ op: ' ', line: a[i] ?? '', a: i, b: j });
      i++;
      j++;
    } else if (i < n && (j >= m || lcs(i + 1, j) >= lcs(i, j + 1))) {
      // Deletions before insertions, as diff(1) prints them.
      ops.push({ op: '-', line: a[i] ?? '', a: i, b: j });
      i++;
    } else {
      ops.push({ op: '+', line: b[j] ?? '', a: i, b: j });
      j++;
    }
  }
  return ops;
}

function splitLines(s: string): string[] {
  if (s === '') return [];
  return s.replace(/\n$/, '').split('\n');
}
