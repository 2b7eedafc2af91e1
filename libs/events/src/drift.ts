import { z } from 'zod';
import { DeciderRef, ObjectRef, Timestamp } from './common.js';
import { cloudEvent } from './envelope.js';

export const DRIFT_DETECTED_V1 = 'dev.capstan.reconcile.drift.detected.v1';

export const DriftDetectedV1Data = z.object({
  sync: DeciderRef,
  object: ObjectRef,
  change: z.enum(['modified', 'deleted']),
  /** Field paths Capstan owns that changed, e.g. `spec.replicas`. */
  fields: z.array(z.string()),
  /** The field manager that made the change, when the API server says (managedFields). */
  manager: z.string().nullable(),
  detectedAt: Timestamp,
});
export type DriftDetectedV1Data = z.infer<typeof DriftDetectedV1Data>;
export const DriftDetectedV1 = cloudEvent(DRIFT_DETECTED_V1, DriftDetectedV1Data);
export type DriftDetectedV1 = z.infer<typeof DriftDetectedV1>;
