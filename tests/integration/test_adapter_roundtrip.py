"""Publish/consume round trips against a real nats-server, incl. the design note's README examples."""

from __future__ import annotations

import asyncio
import contextlib
import io
import textwrap
import uuid
from typing import Any

import nats
import pytest

from adapter_runtime import Consumer, NatsClient, NatsServer, Publisher
from adapter_runtime.client import PublishError
from adapter_runtime.streams import StreamSetupError
from tests.integration.adapter_options import adapter_options as opts

pytestmark = pytest.mark.integration


async def test_round_trip_dict_bytes_str_list(nats_url: str) -> None:
    sent = [{"value": "Hello, World!", "n": 1}, b"\x00\x01raw", "plain text", [1, "two", {"3": None}]]
    got: list[tuple[str, Any, Any]] = []
    done = asyncio.Event()

    async def handler(subject: str, data: Any, reply_to: str | None = None) -> None:
        got.append((subject, data, reply_to))
        if len(got) == len(sent):
            done.set()

    async with NatsClient(**opts(nats_url, subject_prefix="app.")) as client:
        acks = [await client.publish("demo.subject", d) for d in sent]
        assert [a.seq for a in acks] == [1, 2, 3, 4]
        assert {a.stream for a in acks} == {"SEAM"} and not any(a.duplicate for a in acks)
        async with NatsServer(**opts(nats_url, subject_prefix="app.")) as server:
            await server.subscribe("demo.subject", handler)
            await asyncio.wait_for(done.wait(), 30)
            assert server.ready()
    assert [g[1] for g in got] == sent
    assert [type(g[1]) for g in got] == [type(d) for d in sent]
    assert {g[0] for g in got} == {"demo.subject"}  # handlers see the subject without the prefix
    assert {g[2] for g in got} == {None}


async def test_non_durable_round_trip(nats_url: str) -> None:
    got: asyncio.Queue[Any] = asyncio.Queue()

    async def handler(subject: str, data: Any, reply_to: str | None = None) -> None:
        await got.put(data)

    o = opts(nats_url, durable=False, stream_name="EPHEMERAL")
    async with NatsClient(**o) as client, NatsServer(**o) as server:
        await server.subscribe("eph.x", handler)
        await client.publish("eph.x", {"n": 1})
        assert await asyncio.wait_for(got.get(), 30) == {"n": 1}
        info = await server.js.stream_info("EPHEMERAL")  # type: ignore[union-attr]
        assert getattr(info.config.storage, "value", info.config.storage) == "memory"
        cinfo = await server.js.consumer_info("EPHEMERAL", server._subs[0].consumer)  # type: ignore[union-attr]
        assert cinfo.config.durable_name is None


async def test_sync_handler_and_reply_via_header(nats_url: str) -> None:
    nc = await nats.connect(nats_url)
    inbox = nc.new_inbox()
    replies: asyncio.Queue[Any] = asyncio.Queue()

    async def on_reply(msg: Any) -> None:
        await replies.put((msg.data, dict(msg.headers or {})))

    await nc.subscribe(inbox, cb=on_reply)

    def handler(subject: str, data: Any, reply_to: str | None = None) -> dict[str, Any]:
        return {"status": "received", "echo": data, "reply_to": reply_to}

    try:
        async with Publisher(**opts(nats_url)) as client, Consumer(**opts(nats_url)) as server:
            await server.subscribe("rpc.echo", handler)
            await client.publish("rpc.echo", {"q": 1}, headers={"Seam-Reply-To": inbox})
            await client.publish("rpc.echo", {"q": 2})  # no reply header: the return value is dropped
            data, headers = await asyncio.wait_for(replies.get(), 30)
            await asyncio.sleep(0.5)
            assert replies.empty()
    finally:
        await nc.close()
    assert data == b'{"status":"received","echo":{"q":1},"reply_to":"' + inbox.encode() + b'"}'
    assert headers["Seam-Content-Type"] == "json"


async def test_request_waits_for_the_handler_reply(nats_url: str) -> None:
    async def double(subject: str, data: Any, reply_to: str | None = None) -> dict[str, Any]:
        return {"doubled": data["n"] * 2}

    async with NatsClient(**opts(nats_url)) as client, NatsServer(**opts(nats_url)) as server:
        await server.subscribe("rpc.double", double)
        assert await client.request("rpc.double", {"n": 21}, reply_timeout=30) == {"doubled": 42}
        with pytest.raises(TimeoutError):
            await client.request("rpc.nobody", {"n": 1}, reply_timeout=0.5)  # stored, but nobody consumes


async def test_publish_without_stream_and_create_stream_false_fails_clearly(nats_url: str) -> None:
    async with NatsClient(**opts(nats_url, create_stream=False, publish_ack_timeout=1.0)) as client:
        with pytest.raises(
            PublishError, match=r"no stream captures subject 'nowhere\.x'.*create_stream is false"
        ):
            await client.publish("nowhere.x", {"a": 1})
    server = NatsServer(**opts(nats_url, create_stream=False))
    await server.connect()
    try:
        with pytest.raises(StreamSetupError, match="stream 'SEAM' does not exist and create_stream is false"):
            await server.subscribe("nowhere.x", lambda *a: None)
    finally:
        await server.stop()


async def test_explicit_stream_subjects_must_capture_the_subject(nats_url: str) -> None:
    server = NatsServer(**opts(nats_url, stream_name="ORDERS", stream_subjects=["orders.>"]))
    await server.connect()
    try:
        await server.subscribe("orders.created", lambda *a: None)
        with pytest.raises(StreamSetupError, match="not captured by stream 'ORDERS'"):
            await server.subscribe("billing.paid", lambda *a: None)
    finally:
        await server.stop()


# The design note's README examples, verbatim except the import line (and the server URL, which
# points at the test's own nats-server instead of localhost:4222).
README_CLIENT = """
from adapter_runtime import NatsClient

# 创建客户端
client = NatsClient(server_urls=["nats://localhost:4222"])
await client.connect()

# 发布消息
await client.publish("demo.subject", {"value": "Hello, World!"})

# 关闭连接
await client.close()
"""

README_SERVER = """
from adapter_runtime import NatsServer

# 创建服务器
server = NatsServer(server_urls=["nats://localhost:4222"])
await server.connect()

# 定义消息处理函数
async def message_handler(subject, data, reply_to=None):
    print(f"Received: {data}")
    return {"status": "received"}

# 注册处理函数
await server.subscribe("demo.subject", message_handler)

# 运行服务器
await server.run()
"""

README_ADVANCED = """
client = NatsClient(
    server_urls=["nats://localhost:4222"],
    stream_name="my_stream",
    durable=True,
    subject_prefix="app.",
    connect_timeout=10.0,
    max_reconnects=60,
    reconnect_wait=1.0,
    reconnect_jitter=0.1,
    reconnect_jitter_tls=0.1,
    enable_compression=True,
    min_compress_size=1024,
    max_outstanding=65536,
    pending_msgs_limit=65536,
    pending_bytes_limit=8388608,
    client_id="client-1"
)

server = NatsServer(
    server_urls=["nats://localhost:4222"],
    stream_name="my_stream",
    consumer_name="my_consumer",
    durable=True,
    subject_prefix="app.",
    max_inflight=1000,
    max_ack_pending=100,
    max_deliver=10,
    ack_wait=30,
    batch_size=100,
    deliver_policy="all",
    client_id="server-1"
)
"""


def _as_coroutine(code: str, url: str, name: str) -> str:
    body = textwrap.indent(code.replace("nats://localhost:4222", url), "    ")
    return f"async def {name}():\n{body}\n    return locals()\n"


async def _exec_example(code: str, url: str, env: dict[str, Any]) -> Any:
    ns: dict[str, Any] = dict(env)
    exec(_as_coroutine(code, url, "example"), ns)
    return ns["example"]


async def test_readme_examples_run_unchanged(nats_url: str) -> None:
    out = io.StringIO()
    client_example = await _exec_example(README_CLIENT, nats_url, {})
    await client_example()

    server_ns: dict[str, Any] = {}
    server_code = README_SERVER.replace("await server.run()", "__ns__['server'] = server\nawait server.run()")
    server_example = await _exec_example(server_code, nats_url, {"__ns__": server_ns})
    with contextlib.redirect_stdout(out):
        task = asyncio.create_task(server_example())
        for _ in range(300):
            if "Received" in out.getvalue():
                break
            await asyncio.sleep(0.1)
        await server_ns["server"].stop()
        await asyncio.wait_for(task, 30)
    assert "Received: {'value': 'Hello, World!'}" in out.getvalue()


async def test_readme_advanced_configuration_round_trip(nats_url: str) -> None:
    from adapter_runtime import NatsClient, NatsServer

    ns: dict[str, Any] = {"NatsClient": NatsClient, "NatsServer": NatsServer}
    exec(README_ADVANCED.replace("nats://localhost:4222", nats_url), ns)
    client, server = ns["client"], ns["server"]
    client.settings = client.settings.model_copy(update={"metrics_port": 0, "health_port": 0})
    server.settings = server.settings.model_copy(
        update={"metrics_port": 0, "health_port": 0, "fetch_timeout": 1.0}
    )
    got: asyncio.Queue[Any] = asyncio.Queue()

    async def handler(subject: str, data: Any, reply_to: str | None = None) -> None:
        await got.put((subject, data))

    big = {"blob": "x" * 5000, "id": str(uuid.uuid4())}
    await client.connect()
    await server.connect()
    try:
        await server.subscribe("orders", handler)
        ack = await client.publish("orders", big)
        assert ack.stream == "my_stream"
        assert await asyncio.wait_for(got.get(), 30) == ("orders", big)
    finally:
        await client.close()
        await server.stop()
