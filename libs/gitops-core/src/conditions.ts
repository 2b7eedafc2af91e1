/** metav1.Condition, the shape kstatus and every Flux controller use. */
export interface Condition {
  type: string;
  status: 'True' | 'False' | 'Unknown';
  observedGeneration?: number;
  lastTransitionTime: string;
  reason: string;
  message: string;
}

export type ConditionInput = Omit<Condition, 'lastTransitionTime'>;

/**
 * Sets one condition; lastTransitionTime moves only when the status flips, as kstatus expects,
 * so a steady Ready=True keeps the time it first became ready.
 */
export function setCondition(conditions: readonly Condition[], next: ConditionInput, now: Date): Condition[] {
  const existing = conditions.find((c) => c.type === next.type);
  const lastTransitionTime =
    existing && existing.status === next.status ? existing.lastTransitionTime : now.toISOString();
  const updated: Condition = { ...next, lastTransitionTime };
  return existing ? conditions.map((c) => (c.type === next.type ? updated : c)) : [...conditions, updated];
}

export function removeCondition(conditions: readonly Condition[], type: string): Condition[] {
  return conditions.filter((c) => c.type !== type);
}

/**
 * The kstatus triple for a finished reconcile: Ready says the outcome, Reconciling is gone,
 * Stalled is set only when retrying cannot help (a bad commit, not a network blip).
 */
export function readyConditions(
  conditions: readonly Condition[],
  result: { ready: boolean; reason: string; message: string; stalled: boolean; generation?: number },
  now: Date,
): Condition[] {
  const gen = result.generation === undefined ? {} : { observedGeneration: result.generation };
  let out = setCondition(
    conditions,
    {
      type: 'Ready',
      status: result.ready ? 'True' : 'False',
      reason: result.reason,
      message: result.message,
      ...gen,
    },
    now,
  );
  out = removeCondition(out, 'Reconciling');
  out = result.stalled
    ? setCondition(
        out,
        { type: 'Stalled', status: 'True', reason: result.reason, message: result.message, ...gen },
        now,
      )
    : removeCondition(out, 'Stalled');
  return out;
}

export function reconcilingConditions(
  conditions: readonly Condition[],
  message: string,
  now: Date,
  generation?: number,
): Condition[] {
  const gen = generation === undefined ? {} : { observedGeneration: generation };
  return setCondition(
    conditions,
    { type: 'Reconciling', status: 'True', reason: 'Progressing', message, ...gen },
    now,
  );
}
