import { z } from 'zod';
import { loadConfig } from '@capstan/platform';

/** Settings of the image-scan-cost benchmark, from the environment (A/B runs of memory settings). */
export const ImageScanCostConfig = z.object({
  /** NODE_OPTIONS for the registry-watcher instead of the chart's. */
  BENCH_NODE_OPTIONS: z.string().optional(),
  /** Extra environment of the registry-watcher as JSON (`{"MALLOC_ARENA_MAX":"2"}`), over the chart's. */
  BENCH_ENV: z
    .string()
    .default('{}')
    .transform((s, ctx) => {
      const parsed = z.record(z.string(), z.string()).safeParse(JSON.parse(s));
      if (!parsed.success) ctx.addIssue({ code: 'custom', message: 'a JSON object of strings' });
      return parsed.data ?? {};
    }),
});
export type ImageScanCostConfig = z.infer<typeof ImageScanCostConfig>;

export function loadImageScanCostConfig(): ImageScanCostConfig {
  return loadConfig(ImageScanCostConfig);
}
