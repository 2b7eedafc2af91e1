import { BaseRpcContext } from '@nestjs/microservices';
import type { MessageMeta } from './consumer.js';

/** What a Nest handler can learn about the JetStream message it is handling (`@Ctx()`). */
export class JetStreamContext extends BaseRpcContext<[MessageMeta]> {
  get meta(): MessageMeta {
    return this.args[0];
  }
}
