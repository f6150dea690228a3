/** The sizes of one bench run: `BENCH_SCALE=full` (the figures, the default) or `tiny` (seconds, for CI). */
export interface Sizes {
  /** Actions written by W1 and W2. */
  readonly actions: number;
  /** Aggregates they are spread over. */
  readonly aggregates: number;
  /** Actions per rebase in W2. */
  readonly batch: number;
  /** Actions of the aggregate whose state W3 folds. */
  readonly aggregateActions: number;
  /** Actions of the big store (1,000,000 in full). */
  readonly big: number;
  /** Actions per rebase while the big store is built. */
  readonly bigBatch: number;
  /** One-action rebases timed for the latency figure. */
  readonly latencySamples: number;
  /** W4: writer processes, shared aggregates, seconds measured. */
  readonly writers: number;
  readonly sharedAggregates: number;
  readonly seconds: number;
  /** W4: seconds each side's writers run the workload before the measured ones (V8 compiles the code meanwhile). */
  readonly warmup: number;
  /** Repetitions of each small workload (the median is reported). */
  readonly runs: number;
  /** Repetitions of the big stream. */
  readonly bigRuns: number;
}

const FULL: Sizes = {
  actions: 10_000,
  aggregates: 1_000,
  batch: 100,
  aggregateActions: 1_000,
  big: 1_000_000,
  bigBatch: 10_000,
  latencySamples: 300,
  writers: 4,
  sharedAggregates: 16,
  seconds: 10,
  warmup: 10,
  runs: 3,
  bigRuns: 2,
};

const TINY: Sizes = {
  actions: 200,
  aggregates: 20,
  batch: 10,
  aggregateActions: 50,
  big: 2_000,
  bigBatch: 500,
  latencySamples: 10,
  writers: 2,
  sharedAggregates: 16,
  seconds: 0.5,
  warmup: 0.2,
  runs: 1,
  bigRuns: 1,
};

/** The sizes for a scale name. */
export function sizesFor(scale: string): Sizes {
  if (scale === "full") return FULL;
  if (scale === "tiny") return TINY;
  throw new Error(`BENCH_SCALE must be full or tiny, got ${JSON.stringify(scale)}`);
}
