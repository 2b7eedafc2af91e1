import { Module, type DynamicModule } from '@nestjs/common';
import { ObservabilityModule } from '@capstan/platform';
import { busProviders, type Bus } from '@capstan/messaging';

/** Health, readiness and metrics over HTTP; the analysis runs in `startCanaryAnalyzer`. */
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
