import type { Command } from 'commander';

/**
 * Examples for the verbs whose own registration has none, so `--help` of every verb shows some.
 * A verb that gets its own examples where it is registered should lose its entry here.
 */
const EXAMPLES: Record<string, string[]> = {
  who: [
    'capstan who demo/Deployment/hello-web',
    'capstan who ClusterRole/reader -o json',
    'capstan who shop/Service/web --limit 5',
  ],
  history: [
    'capstan history -n shop --since 7d',
    'capstan history --actor ada@example.com --action applied -o json',
  ],
  events: ['capstan events --follow', 'capstan events -n shop --since 30m'],
  reconcile: ['capstan reconcile sync/web', 'capstan reconcile sync/apps -n flux-system --wait --timeout 2m'],
  diff: [
    'capstan diff sync/web',
    'capstan diff sync/web --working-tree .',
    'capstan diff sync/web --ref feature/x',
  ],
  audit: ['capstan audit verify'],
};

export function addExamples(program: Command): void {
  for (const c of program.commands) {
    const examples = EXAMPLES[c.name()];
    if (!examples) continue;
    c.addHelpText('after', `\nExamples:\n${examples.map((e) => `  ${e}`).join('\n')}`);
  }
}
