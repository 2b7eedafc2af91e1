// Fake Nodes: plain Node objects that kwok brings to life (Ready, lease
// heartbeats, pods on them turn Running/Ready) without a kubelet.
import { KWOK_NODE_ANNOTATION, KWOK_NODE_VALUE } from './components.js';

export function nodeName(index: number): string {
  return `capstan-node-${index}`;
}

export function fakeNode(name: string): object {
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: {
      name,
      annotations: { [KWOK_NODE_ANNOTATION]: KWOK_NODE_VALUE, 'node.alpha.kubernetes.io/ttl': '0' },
      labels: {
        'kubernetes.io/hostname': name,
        'kubernetes.io/os': 'linux',
        'kubernetes.io/arch': 'amd64',
        type: 'kwok',
      },
    },
    // Deliberately no taint: ordinary workloads (and the code under test) must
    // schedule here without tolerations.
    spec: {},
  };
}

interface NodeView {
  spec?: { taints?: { key?: string }[] };
  status?: { conditions?: { type?: string; status?: string }[] };
}

/**
 * Ready, and the node lifecycle controller has lifted the not-ready taint that
 * TaintNodesByCondition puts on every new node — otherwise the first pods would
 * wait for it.
 */
export function isSchedulable(node: unknown): boolean {
  const n = node as NodeView;
  const ready = n.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;
  const tainted = n.spec?.taints?.some((t) => t.key?.startsWith('node.kubernetes.io/')) ?? false;
  return ready && !tainted;
}
