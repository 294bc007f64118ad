import { ingestIdentityCost } from '../identity/ingest.js';
import { dedupStepCost, processingIdentityCost } from '../identity/processing.js';
import type { BenchContext } from '../lib/context.js';

/**
 * Issue 13: what the request identity costs. Ingest: CPU per tracker request without and with an
 * `Idempotency-Key`. Processing: the same events with and without request ids through `page-stats
 * processing`, and the dedup step alone (the partition's window of generated ids in memory, one
 * row of ids per batch) per event.
 */
export async function benchIdentity(ctx: BenchContext): Promise<void> {
  const ingest = await ingestIdentityCost(ctx);
  const add = (figure: string, unit: string, ours: number, baseline: number, baselineLabel: string) =>
    ctx.add({ stage: 'identity', figure, unit, ours, baseline, baselineLabel, goal: { kind: 'info' } });
  add('ingest CPU per request, with Idempotency-Key', 'µs', ingest.keyed.cpuUs, ingest.plain.cpuUs, 'without: generated id');
  add('ingest rate, with Idempotency-Key', 'req/s', ingest.keyed.rps, ingest.plain.rps, 'without: generated id');

  const processing = await processingIdentityCost(ctx);
  add('processing CPU per event, with request ids', 'µs', processing.ids.processingCpuUs, processing.plain.processingCpuUs, 'without ids');
  add('  PostgreSQL CPU per event (backends of its database)', 'µs', processing.ids.postgresCpuUs, processing.plain.postgresCpuUs, 'without ids');
  add('processing rate, with request ids', 'events/s', processing.ids.rate, processing.plain.rate, 'without ids');

  const step = await dedupStepCost(ctx, ctx.options.quick ? 30 : 100);
  add('dedup step + recordProcessed, wall time per event', 'µs', step.idsUs, step.plainUs, 'recordProcessed alone');
}
