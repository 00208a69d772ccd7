"""The adapter bench's result rows: paired ratios, targets, metrics cost, failures, CLI checks."""

from __future__ import annotations

import math

import pytest

from benchmarks.adapter_bench import Results, Variant, build_rows, cpu_rows, parse_args, select

pytestmark = pytest.mark.unit


async def _never(cfg: object) -> float:  # the rows never run variants
    raise AssertionError("not run")


def _v(key: str, kind: str = "throughput") -> Variant:
    return Variant(key, key.replace("_", " "), kind, False, _never)


VARIANTS = [
    _v("raw_publish", "latency"),
    _v("adapter_publish_off", "latency"),
    _v("raw_publish_async"),
    _v("adapter_publish_async_off"),
    Variant("adapter_publish_async_on", "adapter publish_async (metrics on)", "throughput", False, _never),
    _v("raw_fetch_ack"),
    _v("adapter_consume_off"),
    _v("adapter_consume_on"),
    _v("faststream_consume"),
]


def _results(samples: dict[str, list[object]]) -> Results:
    return Results(samples, {k: [] for k in samples}, {}, {})  # type: ignore[arg-type]


def _by_variant(rows: list) -> dict[str, object]:
    return {r.variant: r for r in rows}


def test_rows_pair_each_repeat_with_its_baseline_and_judge_targets() -> None:
    res = _results(
        {
            "raw_publish": [[0.0002] * 9 + [0.004], [0.0004] * 10],
            "adapter_publish_off": [[0.00021] * 10, [0.0005] * 10],  # p50 ratios 1.05 and 1.25
            "raw_publish_async": [30_000.0, 10_000.0, 20_000.0],
            "adapter_publish_async_off": [28_000.0, 9_500.0, 15_000.0],  # 0.933, 0.95, 0.75
            "adapter_publish_async_on": [27_000.0, 9_400.0, 14_000.0],
            "raw_fetch_ack": [10_000.0, 10_000.0, 10_000.0],
            "adapter_consume_off": [12_000.0, 8_000.0, 11_000.0],  # 1.2, 0.8, 1.1
            "adapter_consume_on": [12_000.0, 8_000.0, 11_000.0],
            "faststream_consume": [3_000.0, 3_000.0, 3_000.0],
        }
    )
    rows = _by_variant(build_rows(VARIANTS, res))

    pub = rows["adapter publish off"]
    assert pub.ratio == pytest.approx(1.15)  # median of 1.05 and 1.25
    assert pub.verdict == "MISS"  # target <= 1.10x
    assert rows["raw publish"].result.startswith("p50 0.300 ms")  # median of the per-repeat p50s

    pa = rows["adapter publish async off"]
    assert pa.ratio == pytest.approx(28_000 / 30_000)
    assert pa.spread == pytest.approx((0.75, 0.95))
    assert pa.verdict == "PASS"
    assert rows["adapter publish_async (metrics on)"].verdict == "-"  # information only

    assert rows["adapter consume off"].ratio == pytest.approx(1.1)
    assert rows["adapter consume off"].verdict == "PASS"
    assert rows["faststream consume"].verdict == "reference"

    cost = rows["metrics cost: adapter publish_async, metrics on / off"]
    assert cost.ratio == pytest.approx(27_000 / 28_000, rel=1e-3)  # median of per-repeat on/off
    assert cost.verdict == "PASS"  # >= 0.95x
    assert rows["metrics cost: adapter consume on, on / off"].ratio == pytest.approx(1.0)


def test_failed_runs_are_left_out_of_pairs_and_an_all_failed_variant_misses() -> None:
    res = _results(
        {
            "raw_publish_async": [30_000.0, math.nan, 20_000.0],
            "adapter_publish_async_off": [math.nan, 9_000.0, 19_000.0],
            "raw_fetch_ack": [10_000.0],
            "adapter_consume_off": [math.nan],
        }
    )
    variants = [
        _v("raw_publish_async"),
        _v("adapter_publish_async_off"),
        _v("raw_fetch_ack"),
        _v("adapter_consume_off"),
    ]
    rows = _by_variant(build_rows(variants, res))
    assert rows["adapter publish async off"].ratio == pytest.approx(0.95)  # only repeat 3 pairs up
    assert rows["adapter publish async off"].spread is None  # one pair: no range to show
    consume = rows["adapter consume off"]
    assert consume.result == "failed"
    assert math.isnan(consume.ratio)
    assert consume.verdict == "MISS"


def test_cpu_rows_show_client_and_server_cost_and_client_ratio() -> None:
    res = Results(
        {"raw_fetch_ack": [1.0, 1.0], "adapter_consume_off": [1.0, 1.0]},
        {},
        {"raw_fetch_ack": [70e-6, 60e-6], "adapter_consume_off": [42e-6, 40e-6]},
        {"raw_fetch_ack": [9e-6, 10e-6], "adapter_consume_off": [11e-6, math.nan]},
    )
    rows = cpu_rows([_v("raw_fetch_ack"), _v("adapter_consume_off")], res)
    assert rows[0].result == "client 65.0 us/msg, server 9.5 us/msg"
    assert rows[1].result == "client 41.0 us/msg, server 11.0 us/msg"
    assert rows[1].ratio == pytest.approx((0.6 + 40 / 60) / 2)
    assert rows[1].verdict == "-"  # information only


def test_select_names_unknown_variants() -> None:
    assert [v.key for v in select(VARIANTS, "raw_fetch_ack, adapter_consume_off")] == [
        "raw_fetch_ack",
        "adapter_consume_off",
    ]
    with pytest.raises(SystemExit, match="unknown variant\\(s\\) nope"):
        select(VARIANTS, "raw_fetch_ack,nope")


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--messages", "0"], "--messages must be > 0"),
        (["--repeat", "-1"], "--repeat must be > 0"),
        (["--window", "0"], "--window and --timeout must be > 0"),
    ],
)
def test_parse_args_rejects_bad_numbers(
    argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit):
        parse_args(argv)
    assert message in capsys.readouterr().err


def test_parse_args_defaults_are_the_documented_ones() -> None:
    # 9 repeats: enough pairs to resolve the 5 % metrics-cost threshold on a noisy host (~8 min)
    args = parse_args([])
    assert (args.messages, args.latency_messages, args.repeat, args.payload_size) == (20_000, 3_000, 9, 1024)


def test_otlp_child_config_round_trips_through_json() -> None:
    from benchmarks.bench_stream import BenchConfig
    from benchmarks.otlp_child import decode_config, encode_config, main

    cfg = BenchConfig("nats://127.0.0.1:1", 10, 5, bytes(range(256)) * 4, 500, 5000, 4000, 60.0)
    assert decode_config(encode_config(cfg)) == cfg
    assert main(["bogus", "{}"]) == 2  # usage error, nothing started


def test_otlp_cost_is_judged_against_the_child_process_baseline_and_cpu_rows_show_cost() -> None:
    variants = [
        _v("adapter_consume_off"),
        _v("adapter_consume_off_child"),
        Variant("adapter_consume_otlp", "adapter consume (metrics + OTLP)", "throughput", True, _never),
    ]
    res = _results(
        {
            "adapter_consume_off": [40_000.0, 40_000.0],  # the parent: must not be the baseline
            "adapter_consume_off_child": [30_000.0, 30_000.0],
            "adapter_consume_otlp": [29_400.0, 29_100.0],  # 0.98 and 0.97 of the child baseline
        }
    )
    res.client_cpu.update(
        {
            "adapter_consume_off": [25e-6, 25e-6],
            "adapter_consume_off_child": [30e-6, 32e-6],
            "adapter_consume_otlp": [31.5e-6, 32e-6],  # 1.05 and 1.0
        }
    )
    cost = _by_variant(build_rows(variants, res))["metrics cost: adapter consume, metrics + OTLP / off"]
    assert cost.baseline == "adapter consume off child"
    assert cost.ratio == pytest.approx(0.975)
    assert cost.verdict == "PASS"
    cpu = _by_variant(cpu_rows(variants, res))["metrics cost: adapter consume, metrics + OTLP / off"]
    assert cpu.result == "client CPU per message"
    assert cpu.ratio == pytest.approx(1.025)
    assert cpu.verdict == "-"  # information only
