/** The shipper's Prometheus metrics. */
import type { Registry } from '../observe/metrics.js';

export interface ShipMetrics {
  objects: ReturnType<Registry['counter']>;
  lines: ReturnType<Registry['counter']>;
  bytes: ReturnType<Registry['counter']>;
  failures: ReturnType<Registry['counter']>;
  tooLong: ReturnType<Registry['counter']>;
  pending: ReturnType<Registry['gauge']>;
  /** Objects whose last attempt failed and that are still listed, until fixed, retried or skipped. */
  failed: ReturnType<Registry['gauge']>;
}

export function shipMetrics(r: Registry): ShipMetrics {
  return {
    objects: r.counter('weblog_ship_objects_total', 'Objects shipped to the end'),
    lines: r.counter('weblog_ship_lines_total', 'Lines shipped'),
    bytes: r.counter('weblog_ship_bytes_total', 'Bytes of lines shipped'),
    failures: r.counter('weblog_ship_failures_total', 'Objects that could not be read'),
    tooLong: r.counter('weblog_ship_lines_too_long_total', 'Lines over --max-line-bytes, sent as rejects'),
    pending: r.gauge('weblog_ship_objects_pending', 'Objects listed but not yet shipped (lag behind the newest object)'),
    failed: r.gauge(
      'weblog_ship_objects_failed',
      'Objects that could not be read and are still listed (until fixed, retried with --retry-failed or skipped with --skip-failed)',
    ),
  };
}

/** The listing's: passes, LIST requests, objects listed. */
export interface ListMetrics {
  passes: ReturnType<Registry['counter']>;
  requests: ReturnType<Registry['counter']>;
  objects: ReturnType<Registry['counter']>;
}

export function listMetrics(r: Registry): ListMetrics {
  return {
    passes: r.counter('weblog_ship_list_passes_total', 'Listings of the source (one per pass)'),
    requests: r.counter('weblog_ship_list_requests_total', 'Listing requests sent to the source (S3 LIST pages)'),
    objects: r.counter('weblog_ship_listed_objects_total', 'Objects listed, over all passes'),
  };
}

/** Event notifications: messages by outcome, and those in hand. */
export interface NotifyMetrics {
  messages: ReturnType<Registry['counter']>;
  inHand: ReturnType<Registry['gauge']>;
  renewals: ReturnType<Registry['counter']>;
}

export function notifyMetrics(r: Registry): NotifyMetrics {
  return {
    messages: r.counter(
      'weblog_ship_notifications_total',
      'Notification messages by outcome: shipped (deleted once its objects were shipped), ignored (nothing of ours to ship), rejected (malformed or foreign), released (left for a later receive: an object postponed), other-replica (shown again at once for the replica whose object it names)',
    ),
    inHand: r.gauge('weblog_ship_notifications_in_hand', 'Notification messages received and not yet deleted or released'),
    renewals: r.counter('weblog_ship_notification_renewals_total', 'Visibility timeouts renewed while an object shipped'),
  };
}
