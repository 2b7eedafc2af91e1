import { Inject, Injectable } from '@nestjs/common';
import type { Prisma, PrismaClient } from '@capstan/db';
import type { ChainedDecision } from '../domain/decision-record.js';
import { fromRow } from '../persistence/decision-row.js';
import { PRISMA } from '../persistence/prisma.provider.js';

/** What a stream follows; the same meaning as the /api/v1/decisions filters. */
export interface FeedFilter {
  namespace?: string | undefined;
  kind?: string | undefined;
  name?: string | undefined;
  revision?: string | undefined;
  actor?: string | undefined;
  action?: string | undefined;
  since?: Date | undefined;
  until?: Date | undefined;
}

/** The decision log read forwards (oldest first), for streams that follow it. */
@Injectable()
export class DecisionFeed {
  constructor(@Inject(PRISMA) private readonly prisma: PrismaClient) {}

  async head(): Promise<bigint> {
    const [row] = await this.prisma.$queryRaw<
      { seq: bigint | null }[]
    >`SELECT MAX(seq) AS seq FROM decisions`;
    return row?.seq ?? 0n;
  }

  async after(afterSeq: bigint, filter: FeedFilter, limit: number): Promise<ChainedDecision[]> {
    const rows = await this.prisma.decision.findMany({
      where: { AND: [{ seq: { gt: afterSeq } }, ...where(filter)] },
      orderBy: { seq: 'asc' },
      take: limit,
      include: { targets: true },
    });
    return rows.map(fromRow);
  }
}

function where(f: FeedFilter): Prisma.DecisionWhereInput[] {
  const w: Prisma.DecisionWhereInput[] = [];
  if (f.namespace !== undefined || f.kind !== undefined || f.name !== undefined) {
    w.push({
      targets: {
        some: {
          ...(f.namespace === undefined ? {} : { namespace: f.namespace }),
          ...(f.kind === undefined ? {} : { kind: f.kind }),
          ...(f.name === undefined ? {} : { name: f.name }),
        },
      },
    });
  }
  if (f.revision !== undefined) w.push({ OR: [{ sourceRevision: f.revision }, { sourceSha: f.revision }] });
  if (f.actor !== undefined)
    w.push({ OR: [{ actorName: f.actor }, { actorEmail: { equals: f.actor, mode: 'insensitive' } }] });
  if (f.action !== undefined) w.push({ action: f.action });
  if (f.since !== undefined) w.push({ time: { gte: f.since } });
  if (f.until !== undefined) w.push({ time: { lt: f.until } });
  return w;
}
