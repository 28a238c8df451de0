// A log-bucket latency histogram: about 1% relative precision from 1 µs to minutes, in a
// fixed array, so that workers can send theirs to the coordinator and they merge by adding.

/** Bucket i holds values (in µs) in [e^(i/100), e^((i+1)/100)): each bucket is 1% wide. */
const BUCKETS_PER_E = 100;
const BUCKET_COUNT = 2_000; // e^20 µs ≈ 8 minutes; larger values land in the last bucket

export interface HistogramData {
  /** Sparse [bucket, count] pairs. */
  buckets: [number, number][];
  count: number;
  sumMicros: number;
  minMicros: number;
  maxMicros: number;
}

export class Histogram {
  private counts = new Float64Array(BUCKET_COUNT);
  count = 0;
  private sumMicros = 0;
  private minMicros = Infinity;
  private maxMicros = 0;

  /** Records one value in milliseconds. */
  record(ms: number): void {
    const micros = Math.max(1, ms * 1000);
    const bucket = Math.min(BUCKET_COUNT - 1, Math.floor(Math.log(micros) * BUCKETS_PER_E));
    this.counts[bucket]! += 1;
    this.count++;
    this.sumMicros += micros;
    if (micros < this.minMicros) this.minMicros = micros;
    if (micros > this.maxMicros) this.maxMicros = micros;
  }

  /** The value (ms) below which `percent` of the recorded values lie; NaN when empty. */
  percentile(percent: number): number {
    if (this.count === 0) return NaN;
    if (percent >= 100) return this.maxMicros / 1000;
    const rank = Math.max(1, Math.ceil((percent / 100) * this.count));
    let seen = 0;
    for (let i = 0; i < BUCKET_COUNT; i++) {
      seen += this.counts[i]!;
      if (seen >= rank) {
        // The bucket's geometric middle, kept within the exact extremes.
        const middle = Math.exp((i + 0.5) / BUCKETS_PER_E);
        return Math.min(this.maxMicros, Math.max(this.minMicros, middle)) / 1000;
      }
    }
    return this.maxMicros / 1000;
  }

  get meanMs(): number {
    return this.count === 0 ? NaN : this.sumMicros / this.count / 1000;
  }

  get maxMs(): number {
    return this.count === 0 ? NaN : this.maxMicros / 1000;
  }

  reset(): void {
    this.counts.fill(0);
    this.count = 0;
    this.sumMicros = 0;
    this.minMicros = Infinity;
    this.maxMicros = 0;
  }

  add(data: HistogramData): void {
    for (const [bucket, count] of data.buckets) this.counts[bucket]! += count;
    this.count += data.count;
    this.sumMicros += data.sumMicros;
    if (data.count > 0) {
      this.minMicros = Math.min(this.minMicros, data.minMicros);
      this.maxMicros = Math.max(this.maxMicros, data.maxMicros);
    }
  }

  toJSON(): HistogramData {
    const buckets: [number, number][] = [];
    this.counts.forEach((count, bucket) => {
      if (count > 0) buckets.push([bucket, count]);
    });
    return { buckets, count: this.count, sumMicros: this.sumMicros, minMicros: this.count ? this.minMicros : 0, maxMicros: this.maxMicros };
  }

  /** p50/p90/p99/max in ms, rounded for reports. */
  summary(): LatencySummary {
    const round = (ms: number) => (Number.isFinite(ms) ? Math.round(ms * 1000) / 1000 : null);
    return {
      count: this.count,
      p50: round(this.percentile(50)),
      p90: round(this.percentile(90)),
      p95: round(this.percentile(95)),
      p99: round(this.percentile(99)),
      max: round(this.maxMs),
      mean: round(this.meanMs),
    };
  }
}

export interface LatencySummary {
  count: number;
  p50: number | null;
  p90: number | null;
  p95: number | null;
  p99: number | null;
  max: number | null;
  mean: number | null;
}
