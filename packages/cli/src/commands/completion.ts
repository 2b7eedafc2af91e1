import type { Command } from 'commander';
import { KIND_WORDS } from './capstan-kinds.js';

/** Every verb with its flags, read from the program itself so completion never lags behind it. */
function verbs(program: Command): { name: string; flags: string[] }[] {
  return program.commands.map((c) => ({
    name: c.name(),
    flags: c.options.flatMap((o) => [o.short, o.long].filter((f): f is string => f !== undefined)),
  }));
}

const KIND_VERBS = new Set(['get']);

export function bashCompletion(program: Command): string {
  const cases = verbs(program)
    .map(
      (v) =>
        `    ${v.name}) opts="${v.flags.join(' ')}${KIND_VERBS.has(v.name) ? ` ${KIND_WORDS.join(' ')}` : ''}" ;;`,
    )
    .join('\n');
  return `# capstan bash completion: source <(capstan completion bash)
_capstan() {
  local cur=\${COMP_WORDS[COMP_CWORD]} verb=\${COMP_WORDS[1]} opts
  if [ "$COMP_CWORD" -eq 1 ]; then
    COMPREPLY=($(compgen -W "${verbs(program)
      .map((v) => v.name)
      .join(' ')}" -- "$cur"))
    return
  fi
  case "$verb" in
${cases}
    *) opts="" ;;
  esac
  COMPREPLY=($(compgen -W "$opts" -- "$cur"))
}
complete -F _capstan capstan`;
}

export function zshCompletion(program: Command): string {
  return `#compdef capstan
# capstan zsh completion: source <(capstan completion zsh)
autoload -U +X bashcompinit && bashcompinit
${bashCompletion(program)}`;
}

export function fishCompletion(program: Command): string {
  const lines = ['# capstan fish completion: capstan completion fish | source', 'complete -c capstan -f'];
  for (const v of verbs(program)) {
    const description =
      program.commands
        .find((c) => c.name() === v.name)
        ?.description()
        .replace(/'/g, "\\'") ?? '';
    lines.push(
      `complete -c capstan -n '__fish_use_subcommand' -a ${v.name} -d '${description.slice(0, 60)}'`,
    );
    for (const flag of v.flags.filter((f) => f.startsWith('--')))
      lines.push(`complete -c capstan -n '__fish_seen_subcommand_from ${v.name}' -l ${flag.slice(2)}`);
    if (KIND_VERBS.has(v.name))
      lines.push(
        `complete -c capstan -n '__fish_seen_subcommand_from ${v.name}' -a '${KIND_WORDS.join(' ')}'`,
      );
  }
  return lines.join('\n');
}
