import type { Provider } from '@nestjs/common';
import type { Bus } from '@capstan/messaging';
import type { KubeConfig } from '@kubernetes/client-node';
import type { AuditAuthOptions } from '../auth/auth.providers.js';
import { AUDIT_KUBE_CONFIG } from '../kube/audit-kube.providers.js';
import { allowEveryone, KubernetesCanaryAuthorizer } from './canary-command-authorizer.js';
import {
  CANARY_COMMAND_AUTHORIZER,
  CANARY_COMMAND_BUS,
  CanaryCommandsController,
} from './canary-commands.controller.js';

export const canaryCommandControllers = [CanaryCommandsController];

/** Commands need the bus (to reach the analyzer) and, with Kubernetes auth, a SubjectAccessReview. */
export function canaryCommandProviders(bus: Bus, auth: AuditAuthOptions | undefined): Provider[] {
  return [
    { provide: CANARY_COMMAND_BUS, useValue: bus },
    {
      provide: CANARY_COMMAND_AUTHORIZER,
      inject: [AUDIT_KUBE_CONFIG],
      useFactory: (kc: KubeConfig) =>
        auth?.mode === 'disabled' ? allowEveryone : new KubernetesCanaryAuthorizer(kc),
    },
  ];
}
