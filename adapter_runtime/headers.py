"""Header names the adapter sets on the wire (one place, so publisher and consumer agree)."""

from __future__ import annotations

MSG_ID = "Nats-Msg-Id"  # JetStream de-duplication key
ENCODING = "Seam-Encoding"  # compression codec of the payload ("zstd" | "lz4"); absent = identity
CONTENT_TYPE = "Seam-Content-Type"  # how to turn bytes back into the handler's data
PUBLISHED_AT = "Seam-Published-At"  # publisher wall clock, ns since epoch, for nats.e2e.latency
REPLY_TO = "Seam-Reply-To"  # where a handler's return value goes (the JetStream reply is the ack)

# Dead-letter headers
DLQ_REASON = "Seam-Dlq-Reason"
DLQ_SUBJECT = "Seam-Dlq-Original-Subject"
DLQ_STREAM = "Seam-Dlq-Stream"
DLQ_STREAM_SEQ = "Seam-Dlq-Stream-Seq"
DLQ_CONSUMER = "Seam-Dlq-Consumer"
DLQ_DELIVERIES = "Seam-Dlq-Deliveries"
