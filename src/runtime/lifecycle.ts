import type { Logger } from 'pino';

/**
 * Shutdown in order: readiness goes 503, stop taking work, drain, flush, close — bounded by a
 * hard deadline whose timer is unref()'d so it never keeps a finished process alive.
 */
export class Lifecycle {
  private readonly steps: Array<{ name: string; run: () => Promise<void> }> = [];
  private stopping: Promise<void> | undefined;

  constructor(
    readonly logger: Logger,
    private readonly deadlineMs: number,
  ) {}

  get shuttingDown(): boolean {
    return this.stopping !== undefined;
  }

  /** Steps run in the order they were added. */
  onShutdown(name: string, run: () => Promise<void>): void {
    this.steps.push({ name, run });
  }

  shutdown(reason: string): Promise<void> {
    this.stopping ??= this.runSteps(reason);
    return this.stopping;
  }

  private async runSteps(reason: string): Promise<void> {
    this.logger.info({ reason }, 'shutdown_started');
    const deadline = setTimeout(() => {
      this.logger.error({ deadlineMs: this.deadlineMs }, 'shutdown_deadline_exceeded');
      process.exit(1);
    }, this.deadlineMs);
    deadline.unref();
    for (const step of this.steps) {
      try {
        await step.run();
      } catch (err) {
        this.logger.error({ err, step: step.name }, 'shutdown_step_failed');
      }
    }
    clearTimeout(deadline);
    this.logger.info('shutdown_done');
  }

  handleSignals(onDone: () => void = () => process.exit(0)): void {
    for (const signal of ['SIGTERM', 'SIGINT'] as const) {
      process.once(signal, () => void this.shutdown(signal).then(onDone));
    }
  }
}
