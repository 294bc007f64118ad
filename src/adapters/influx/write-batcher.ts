interface Pending {
  lines: readonly string[];
  resolve: () => void;
  reject: (err: unknown) => void;
}

/**
 * Group commit for `/write`: lines handed in while earlier requests are in flight go out together,
 * up to `maxLines` per request and `maxInFlight` requests at once. Each caller's promise settles
 * with the request that carried its lines, so resolved still means stored. Consumers write many
 * small batches at once (the Kafka mock hands out one record batch per partition and fetch), and
 * every request costs InfluxDB a WAL sync and us a gzip and a round trip: fewer, larger requests.
 */
export class WriteBatcher {
  private queue: Pending[] = [];
  private inFlight = 0;

  constructor(
    private readonly send: (lines: readonly string[]) => Promise<void>,
    private readonly maxLines: number,
    private readonly maxInFlight: number,
  ) {}

  write(lines: readonly string[]): Promise<void> {
    if (lines.length === 0) return Promise.resolve();
    return new Promise((resolve, reject) => {
      this.queue.push({ lines, resolve, reject });
      this.pump();
    });
  }

  private pump(): void {
    while (this.inFlight < this.maxInFlight && this.queue.length > 0) {
      const group: Pending[] = [];
      let size = 0;
      while (this.queue.length > 0 && (group.length === 0 || size + this.queue[0]!.lines.length <= this.maxLines)) {
        const next = this.queue.shift()!;
        group.push(next);
        size += next.lines.length;
      }
      this.inFlight++;
      const lines = group.length === 1 ? group[0]!.lines : group.flatMap((p) => p.lines);
      void this.send(lines)
        .then(
          () => {
            for (const p of group) p.resolve();
          },
          (err: unknown) => {
            for (const p of group) p.reject(err);
          },
        )
        .finally(() => {
          this.inFlight--;
          this.pump();
        });
    }
  }
}
