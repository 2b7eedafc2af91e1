/**
 * Flux v1's glob (gobwas/glob without separators): `*` any run of characters, `?` one character,
 * `[abc]`/`[!abc]` classes, `{a,b}` alternatives. Anchored at both ends.
 */
export function globToRegExp(glob: string): RegExp {
  let re = '';
  let inClass = false;
  let braces = 0;
  for (let i = 0; i < glob.length; i++) {
    const ch = glob.charAt(i);
    if (inClass) {
      if (ch === ']') inClass = false;
      re += ch === '\\' ? '\\\\' : ch;
      continue;
    }
    switch (ch) {
      case '*':
        re += '.*';
        break;
      case '?':
        re += '.';
        break;
      case '[':
        inClass = true;
        re += '[';
        if (glob[i + 1] === '!') {
          re += '^';
          i++;
        }
        break;
      case '{':
        braces++;
        re += '(?:';
        break;
      case '}':
        if (braces > 0) {
          braces--;
          re += ')';
        } else re += '\\}';
        break;
      case ',':
        re += braces > 0 ? '|' : ',';
        break;
      case '\\':
        i++;
        re += escape(glob[i] ?? '\\');
        break;
      default:
        re += escape(ch);
    }
  }
  return new RegExp(`^${re}$`);
}

function escape(ch: string): string {
  return ch.replace(/[.+^$()|[\]\\{}?*]/g, '\\$&');
}
