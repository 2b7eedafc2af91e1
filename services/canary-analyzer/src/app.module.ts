import { Module, type DynamicModule } from '@nestjs/common';
import { ObservabilityModule } from '@capstan/platform';
import { busProviders, type Bus } from '@capstan/messaging';

/**
 * Boots, joins the event backbone and reports health and metrics. Its own capability arrives
 * with its issue; the wiring here is what that work plugs into.
 */
@Module({})
export class CanaryAnalyzerModule {
  static create(bus: Bus): DynamicModule {
    return {
      module: CanaryAnalyzerModule,
      imports: [ObservabilityModule.forService('canary-analyzer')],
      providers: [...busProviders(bus)],
    };
  }
}
