// The job a load-generator process of the decisions benchmark runs, and what it reports back.

export interface LoadJob {
  url: string;
  headers: Record<string, string>;
  bodies: string[];
  connections: number;
  seconds: number;
}

export interface LoadResult {
  /** Responses with status 200. */
  ok: number;
  /** Any other status, and connection errors and timeouts. */
  failed: number;
  seconds: number;
  /** Latency histogram: [bucket, count], bucket = floor(latency / BUCKET_MS). */
  buckets: [number, number][];
  /** CPU the generator used (user + system, all threads), in seconds. */
  cpuSeconds: number;
}

/** Latency resolution: 10 µs (autocannon's own histogram keeps whole milliseconds). */
export const BUCKET_MS = 0.01;
