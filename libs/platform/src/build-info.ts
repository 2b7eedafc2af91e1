import { Gauge, type Registry } from 'prom-client';

/** Capstan's release; every service and the CLI are built from one tree, so they share it. */
export const CAPSTAN_VERSION = '0.1.0';

/** `capstan_build_info{version="0.1.0"} 1`: what `capstan check` compares against its own version. */
export function registerBuildInfo(registry: Registry, version = CAPSTAN_VERSION): void {
  new Gauge({
    name: 'capstan_build_info',
    help: 'The Capstan version this service runs (always 1)',
    labelNames: ['version', 'node'],
    registers: [registry],
  }).set({ version, node: process.version }, 1);
}
