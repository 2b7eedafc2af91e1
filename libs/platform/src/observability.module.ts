import { Controller, Get, Header, Module, Res, Global, type DynamicModule } from '@nestjs/common';
import { Registry, collectDefaultMetrics } from 'prom-client';
import type { Response } from 'express';
import { Readiness } from './readiness.js';
import { registerBuildInfo } from './build-info.js';

export const METRICS_REGISTRY = Symbol('MetricsRegistry');

@Controller()
class ObservabilityController {
  constructor(
    private readonly readiness: Readiness,
    private readonly registry: Registry,
  ) {}

  @Get('healthz')
  healthz() {
    return { status: 'ok' };
  }

  @Get('readyz')
  async readyz(@Res() res: Response) {
    const report = await this.readiness.report();
    res.status(report.ready ? 200 : 503).json(report);
  }

  @Get('metrics')
  @Header('Content-Type', 'text/plain; version=0.0.4')
  metrics() {
    return this.registry.metrics();
  }
}

/** /healthz, /readyz and /metrics for every service, with one prom-client registry per app. */
@Global()
@Module({})
export class ObservabilityModule {
  static forService(service: string): DynamicModule {
    const registry = new Registry();
    registry.setDefaultLabels({ service });
    collectDefaultMetrics({ register: registry });
    registerBuildInfo(registry);
    return {
      module: ObservabilityModule,
      controllers: [ObservabilityController],
      providers: [Readiness, { provide: Registry, useValue: registry }],
      exports: [Readiness, Registry],
    };
  }
}
