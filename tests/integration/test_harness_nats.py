"""The NATS half of the harness does what the other tests rely on."""

from __future__ import annotations

import asyncio

import nats
import pytest
from nats.js.api import StorageType, StreamConfig

from seam_harness.nats import NatsCluster, NatsProcess

pytestmark = pytest.mark.integration


async def test_stream_survives_kill_and_restart(nats_server: NatsProcess) -> None:
    nc = await nats.connect(nats_server.url)
    js = nc.jetstream()
    await js.add_stream(StreamConfig(name="KEEP", subjects=["keep.>"], storage=StorageType.FILE))
    for i in range(50):
        await js.publish("keep.x", f"m{i}".encode())
    await nc.close()

    nats_server.restart(kill=True)

    nc = await nats.connect(nats_server.url)
    js = nc.jetstream()
    info = await js.stream_info("KEEP")
    assert info.state.messages == 50
    msg = await js.get_msg("KEEP", 50)
    assert msg.data == b"m49"
    await nc.close()


async def test_graceful_restart_keeps_port_and_data(nats_server: NatsProcess) -> None:
    port = nats_server.port
    nc = await nats.connect(nats_server.url)
    js = nc.jetstream()
    await js.add_stream(StreamConfig(name="G", subjects=["g"]))
    await js.publish("g", b"one")
    await nc.close()
    nats_server.restart()
    assert nats_server.port == port
    nc = await nats.connect(nats_server.url)
    assert (await nc.jetstream().stream_info("G")).state.messages == 1
    await nc.close()


async def _stream_leader(urls: list[str], name: str) -> str:
    nc = await nats.connect(servers=urls, connect_timeout=2)
    try:
        info = await nc.jetstream().stream_info(name)
        assert info.cluster is not None
        return str(info.cluster.leader)
    finally:
        await nc.close()


async def test_cluster_keeps_r3_stream_through_loss_of_a_node(nats_cluster: NatsCluster) -> None:
    urls = nats_cluster.urls
    nc = await nats.connect(servers=urls)
    js = nc.jetstream()
    # Meta leader election may still be settling right after health: retry the create briefly.
    for attempt in range(50):
        try:
            await js.add_stream(StreamConfig(name="R3", subjects=["r3.>"], num_replicas=3))
            break
        except Exception:
            if attempt == 49:
                raise
            await asyncio.sleep(0.2)
    for i in range(100):
        await js.publish("r3.a", str(i).encode())
    await nc.close()

    leader = await _stream_leader(urls, "R3")
    assert leader in {n.name for n in nats_cluster.nodes}
    idx = next(i for i, n in enumerate(nats_cluster.nodes) if n.name == leader)
    nats_cluster.stop_node(idx, kill=True)

    survivors = [n.url for i, n in enumerate(nats_cluster.nodes) if i != idx]
    nc = await nats.connect(servers=survivors)
    js = nc.jetstream()
    new_leader = None
    for _ in range(100):
        try:
            info = await js.stream_info("R3")
            if info.cluster and info.cluster.leader and info.cluster.leader != leader:
                new_leader = info.cluster.leader
                break
        except Exception:
            pass
        await asyncio.sleep(0.2)
    assert new_leader is not None, "no new stream leader elected after losing the old one"
    ack = await js.publish("r3.a", b"after-loss")
    assert ack.seq == 101
    assert (await js.stream_info("R3")).state.messages == 101
    await nc.close()

    nats_cluster.start_node(idx)
    nats_cluster.wait_healthy()
