// EventService.Subscribe as an async iterable of events, each acknowledged
// with event.ack():
//
//   for await (const event of gw.subscribe("crm-sync", ["ONCRMDEALADD"])) {
//     await syncDeal(event.recordId);
//     event.ack();
//   }
//
// An event is deleted from the portal's queue only once acknowledged; what is
// not acknowledged when the stream ends comes back on the consumer's next
// subscription (with a higher attempt). Leaving the loop sends the
// acknowledgements written so far and ends the stream.
import type { ClientDuplexStream } from "@grpc/grpc-js";

import { fromRpcError } from "./errors.js";
import {
  SubscribeRequest,
  type EventSource,
  type QueuedEvent,
  type SubscribeResponse,
  type SubscribeStart,
} from "./gen/bitrix24/gateway/v1/events.js";

export interface SubscribeOptions {
  /** The portal does not queue events of writes carrying this auth_connector. */
  authConnector?: string;
  /** Where the events come from; default the portal's offline queue. */
  source?: EventSource;
  /** Deadline of the whole stream in milliseconds from now; default none. */
  timeoutMs?: number;
}

/** One delivered event; ack() acknowledges it on the stream that delivered it. */
export interface B24Event {
  deliveryId: string;
  /** e.g. ONCRMDEALUPDATE. */
  event: string;
  portal: string;
  /** The record's ID as text; "" when the event carries none. */
  recordId: string;
  timestamp: string;
  /** The event's data as Bitrix24 sent it. */
  data: { [key: string]: unknown };
  /** 1 for the first delivery. */
  attempt: number;
  ack(): void;
}

/**
 * One Subscribe stream: iterate it once with `for await`. The iteration ends
 * when the stream does; failures throw BitrixError (UNAVAILABLE: subscribing
 * again is safe; the other codes are a subscription or acknowledgement the
 * gateway refused).
 */
export class Subscription implements AsyncIterable<B24Event> {
  private ended = false;

  constructor(private readonly stream: ClientDuplexStream<SubscribeRequest, SubscribeResponse>,
              start: SubscribeStart) {
    // Errors reach the iterator; without a listener Node would treat one as
    // unhandled while nobody iterates.
    stream.on("error", () => {});
    stream.write(SubscribeRequest.fromPartial({ start }));
  }

  /** Acknowledges events by delivery id (event.ack() does this for one). */
  ack(...deliveryIds: string[]): void {
    if (!this.ended) this.stream.write(SubscribeRequest.fromPartial({ ack: { deliveryIds } }));
  }

  /**
   * Sends the acknowledgements made so far and ends our side; the gateway
   * takes them and ends the stream (the iteration then finishes). Events it
   * delivered meanwhile and nobody acknowledged come back next time.
   */
  close(): void {
    if (this.ended) return;
    this.ended = true;
    this.stream.end();
  }

  async *[Symbol.asyncIterator](): AsyncIterator<B24Event> {
    try {
      // Not destroyed when the loop is left early: the stream then ends as
      // close() says, with the acknowledgements delivered.
      for await (const message of this.stream.iterator({ destroyOnReturn: false })) {
        yield this.event((message as SubscribeResponse).event!);
      }
    } catch (e) {
      throw fromRpcError(e);
    } finally {
      this.close();
      this.stream.resume();  // what comes until the gateway's end is dropped unacknowledged
    }
  }

  private event(e: QueuedEvent): B24Event {
    return {
      deliveryId: e.deliveryId, event: e.event, portal: e.portal, recordId: e.recordId,
      timestamp: e.timestamp, data: e.data ?? {}, attempt: e.attempt,
      ack: () => this.ack(e.deliveryId),
    };
  }
}
