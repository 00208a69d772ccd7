"""kopf handlers; importing this package registers them all."""

from jetstream_operator.handlers import connections, consumers, lifecycle, metrics, secrets, streams

__all__ = ["connections", "consumers", "lifecycle", "metrics", "secrets", "streams"]
