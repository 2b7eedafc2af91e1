import { Injectable } from '@nestjs/common';
import { Registry, type Counter, type Gauge } from 'prom-client';
import { capstanCounter, capstanGauge } from '@capstan/platform';
import type { DecisionRecord } from '../domain/decision-record.js';

export type DeliveryResult = 'success' | 'failure' | 'dead';

export interface ChainCheck {
  ok: boolean;
  checked: number;
  at: Date;
}

/**
 * The audit service's own metrics, under the shared names (libs/platform metric-names.ts):
 * decisions recorded, the hash chain's last verification, webhook deliveries. Components report
 * here; nothing here reads the database.
 */
@Injectable()
export class AuditMetrics {
  private readonly decisions: Counter<'action' | 'outcome' | 'kind' | 'namespace'>;
  private readonly chainValid: Gauge;
  private readonly chainVerified: Gauge;
  private readonly chainDecisions: Gauge;
  private readonly deliveries: Counter<'namespace' | 'name' | 'result'>;

  constructor(readonly registry: Registry) {
    this.decisions = capstanCounter(registry, 'decisions');
    this.chainValid = capstanGauge(registry, 'auditChainValid');
    this.chainVerified = capstanGauge(registry, 'auditChainVerified');
    this.chainDecisions = capstanGauge(registry, 'auditChainDecisions');
    this.deliveries = capstanCounter(registry, 'webhookDeliveries');
  }

  recorded(record: Pick<DecisionRecord, 'action' | 'outcome' | 'decidedBy'>): void {
    this.decisions.inc({
      action: record.action,
      outcome: record.outcome,
      kind: record.decidedBy.kind,
      namespace: record.decidedBy.namespace,
    });
  }

  chainChecked(check: ChainCheck): void {
    this.chainValid.set(check.ok ? 1 : 0);
    this.chainVerified.set(check.at.getTime() / 1000);
    this.chainDecisions.set(check.checked);
  }

  delivered(subscriptionKey: string, result: DeliveryResult): void {
    const [namespace = '', name = ''] = subscriptionKey.split('/', 2);
    this.deliveries.inc({ namespace, name, result });
  }
}
