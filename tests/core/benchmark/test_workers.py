"""How a benchmark's runs are spread over worker processes."""

from __future__ import annotations

import pytest

from score_env.benchmark import workers
from score_env.config import BenchmarkConfig, ConfigError
from score_env.config.load import load_config
from score_env.config.policy import PolicyConfig


@pytest.mark.parametrize(
    ("values", "cores", "runs", "expected"),
    [
        ({}, 2, 5, (1, 2)),  # the default: all in the command's process, with every core's thread
        ({"workers": 0}, 2, 5, (2, 1)),  # one run per core, one torch thread each
        ({"workers": 0}, 8, 3, (3, 2)),  # never more workers than runs; the cores shared among them
        ({"workers": 0}, 1, 5, (1, 1)),
        ({"workers": 0, "policy": PolicyConfig().model_copy(update={"device": "cuda:0"})}, 16, 5, (1, 16)),  # a GPU
    ],
)
def test_plan(monkeypatch, values, cores, runs, expected):
    monkeypatch.setattr(workers, "cores", lambda: cores)
    config = BenchmarkConfig().model_copy(update=values)
    assert workers.plan_workers(config, runs) == expected


def test_a_negative_worker_count_is_a_config_error():
    with pytest.raises(ConfigError, match="workers"):
        load_config(BenchmarkConfig, "benchmark", ["workers=-1"])


def test_multi_turn_rl_starts_first_and_the_untrained_base_last():
    from score_env.config.load import load_agent_config

    work = {name: workers.expected_work(load_agent_config(name)) for name in BenchmarkConfig().methods}
    assert work["score"] > work["sft"] == work["star_plus"] == work["score_single_turn"] > work["prompting"]


def test_a_worker_that_dies_stops_the_benchmark_with_one_line_saying_what_to_do(tmp_path):
    import os
    from functools import partial

    from rich.console import Console

    from score_env.benchmark.method import Wiring
    from score_env.config.load import load_agent_config

    wiring = Wiring(None, None, load_agent_config, prepare=partial(os._exit, 1))  # dies as it starts
    runs = [workers.Run(0, "prompting", tmp_path / "a"), workers.Run(0, "sft", tmp_path / "b")]
    config = BenchmarkConfig(workers=2)
    with pytest.raises(RuntimeError, match=r"worker process died.*rerun the same command"):
        workers.run_all(runs, config, wiring, [0], None, Console(file=open(os.devnull, "w")))  # noqa: SIM115
