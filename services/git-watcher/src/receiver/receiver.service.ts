import {
  Inject,
  Injectable,
  Logger,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
} from '@nestjs/common';
import { readyConditions } from '@capstan/gitops-core';
import { CLOCK, type Clock, Readiness } from '@capstan/platform';
import { KeptWatch, SecretReader } from '@capstan/kube';
import { WatcherService } from '../watcher.service.js';
import { ReceiverResources, type Receiver } from './receiver-resources.js';
import { GIT_WATCHER_CONFIG, type GitWatcherConfig } from '../config.js';
import { checkSignature } from './signature.js';
import { checkFreshness, deliveryKey, splitTargets } from './replay.js';
import { DeliveryLedger } from './delivery-ledger.js';

export type Delivery =
  | { kind: 'not-found' }
  | { kind: 'suspended' }
  | { kind: 'unauthorized'; reason: string }
  | { kind: 'replayed'; reason: string }
  | { kind: 'accepted'; requested: string[]; unknown: string[]; refused: string[] };

/** Where a Receiver's webhook is served; recorded in its status for users to copy. */
export function webhookPath(namespace: string, name: string): string {
  return `/hooks/${namespace}/${name}`;
}

/**
 * Push webhooks: authenticates a delivery against the Receiver's token and polls the
 * GitRepositories it names right away, so a push is seen in well under the poll interval.
 */
@Injectable()
export class ReceiverService implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('Receivers');
  private informer?: ReturnType<ReceiverResources['informer']>;
  private watch?: KeptWatch<Receiver>;

  constructor(
    private readonly receivers: ReceiverResources,
    private readonly secrets: SecretReader,
    private readonly watcher: WatcherService,
    private readonly readiness: Readiness,
    private readonly ledger: DeliveryLedger,
    @Inject(CLOCK) private readonly clock: Clock,
    @Inject(GIT_WATCHER_CONFIG) private readonly config: GitWatcherConfig,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    this.readiness.register('receiver-watch', () =>
      this.watch?.synced ? Promise.resolve() : Promise.reject(new Error('receiver watch not synced')),
    );
    const informer = this.receivers.informer();
    this.informer = informer;
    informer.on('add', (r) => void this.recordStatus(r));
    informer.on('update', (r) => void this.recordStatus(r));
    this.watch = new KeptWatch(informer, 'Receivers', (m) => this.logger.warn(m));
    await this.watch.start();
  }

  async onApplicationShutdown(): Promise<void> {
    await this.watch?.stop();
  }

  async deliver(
    namespace: string,
    name: string,
    headers: Record<string, string | string[] | undefined>,
    rawBody: Buffer,
  ): Promise<Delivery> {
    const receiver = this.informer?.get(name, namespace);
    if (!receiver) return { kind: 'not-found' };
    if (receiver.spec.suspend) return { kind: 'suspended' };
    const token = (await this.secrets.read(namespace, receiver.spec.secretRef.name))['token'];
    if (!token) return { kind: 'unauthorized', reason: 'the receiver secret has no token' };
    const check = checkSignature(receiver.spec.type, headers, rawBody, token);
    if (!check.ok) return { kind: 'unauthorized', reason: check.reason };
    const fresh = checkFreshness(
      check.signedAt,
      this.clock.now().getTime(),
      this.config.RECEIVER_TIMESTAMP_TOLERANCE_SECONDS * 1000,
    );
    if (!fresh.fresh) return { kind: 'replayed', reason: fresh.reason };
    // Recorded only once authenticated: unsigned noise must not fill the ledger.
    if (!(await this.ledger.firstSeen(deliveryKey(namespace, name, rawBody))))
      return { kind: 'replayed', reason: 'this delivery was already received' };
    const targets = splitTargets(namespace, receiver.spec.resources, this.config.ALLOW_CROSS_NAMESPACE_REFS);
    const requested: string[] = [];
    const unknown: string[] = [];
    for (const { namespace: ns, name: repo } of targets.allowed) {
      (this.watcher.requestPoll(ns, repo) ? requested : unknown).push(`${ns}/${repo}`);
    }
    return { kind: 'accepted', requested, unknown, refused: targets.refused };
  }

  /** Ready once per generation: the path is known and the token Secret is usable. */
  private async recordStatus(receiver: Receiver): Promise<void> {
    const { namespace, name, generation } = receiver.metadata;
    if (receiver.status?.observedGeneration === generation && receiver.status?.webhookPath) return;
    let ready = { ready: true, reason: 'Succeeded', message: `receiving at ${webhookPath(namespace, name)}` };
    const { refused } = splitTargets(
      namespace,
      receiver.spec.resources,
      this.config.ALLOW_CROSS_NAMESPACE_REFS,
    );
    try {
      const data = await this.secrets.read(namespace, receiver.spec.secretRef.name);
      if (!data['token'])
        ready = {
          ready: false,
          reason: 'InvalidSecret',
          message: `secret ${receiver.spec.secretRef.name} has no token`,
        };
    } catch (e) {
      ready = { ready: false, reason: 'SecretNotFound', message: e instanceof Error ? e.message : String(e) };
    }
    if (ready.ready && refused.length > 0)
      ready = {
        ready: false,
        reason: 'CrossNamespaceRefNotAllowed',
        message: `spec.resources names ${refused.join(', ')} outside namespace ${namespace}; cross-namespace references are off in this installation`,
      };
    const gen = generation === undefined ? {} : { generation };
    await this.receivers
      .patchStatus(namespace, name, {
        ...(generation === undefined ? {} : { observedGeneration: generation }),
        webhookPath: webhookPath(namespace, name),
        conditions: readyConditions(
          receiver.status?.conditions ?? [],
          { ...ready, stalled: false, ...gen },
          this.clock.now(),
        ),
      })
      .catch((e: unknown) => this.logger.warn(`${namespace}/${name}: status not recorded: ${String(e)}`));
  }
}
