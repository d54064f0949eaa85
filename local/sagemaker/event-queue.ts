import type { EventBridgeEvent } from './registry.js';

/**
 * Delivers events one at a time, in the order they were pushed, off the request path: `push`
 * never waits. A delivery that throws is logged with the event's id and skipped (EventBridge
 * would retry and then drop it; this queue does not retry). `drain()` resolves once the queue is
 * empty and no delivery is running, including deliveries pushed while it waited.
 */
export class EventQueue {
  private readonly queue: EventBridgeEvent[] = [];
  private active: Promise<void> | undefined;

  constructor(private readonly deliver?: (e: EventBridgeEvent) => Promise<void>) {}

  push(events: readonly EventBridgeEvent[]): void {
    if (!this.deliver || events.length === 0) return;
    this.queue.push(...events);
    this.pump();
  }

  async drain(): Promise<void> {
    while (this.active) await this.active;
  }

  private pump(): void {
    const deliver = this.deliver;
    if (!deliver || this.active || this.queue.length === 0) return;
    this.active = (async () => {
      await null; // never deliver inside push(): the caller's response goes first
      for (let e = this.queue.shift(); e; e = this.queue.shift()) {
        try {
          await deliver(e);
        } catch (error) {
          console.error(`sagemaker stand-in: delivery of event ${e.id} (${e['detail-type']}, ${e.resources.join(' ')}) failed:`, error);
        }
      }
    })().finally(() => {
      this.active = undefined;
      this.pump(); // events pushed between the last shift and here
    });
  }
}
