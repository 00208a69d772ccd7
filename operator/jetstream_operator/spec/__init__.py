"""Validated models of the operator's custom resource specs (CR spec -> model -> NATS config)."""

from jetstream_operator.spec.connection import NatsConnectionSpec
from jetstream_operator.spec.consumer import ConsumerSpec
from jetstream_operator.spec.errors import SpecError
from jetstream_operator.spec.stream import StreamSpec

__all__ = ["ConsumerSpec", "NatsConnectionSpec", "SpecError", "StreamSpec"]
