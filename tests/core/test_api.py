"""The Python API: the three jobs as functions, with the command line's keys as keyword arguments."""

from __future__ import annotations

import pytest

from score_env import api
from score_env.benchmark.results import MethodResult
from score_env.config import ConfigError


def test_evaluate_the_embedded_model_from_python(tmp_path):
    result = api.evaluate(model="embedded", limit=4, run_dir=str(tmp_path / "eval"), bootstrap=10)
    assert result.report.problems == 4 and 0 <= result.report.estimates["acc@t1"].value <= 1
    assert len(result.evaluation.episodes) == 4 and (tmp_path / "eval" / "episodes.jsonl").exists()
    assert result.model.endswith("arithmetic-base")


def test_train_then_benchmark_from_python(tiny_model_dir, tmp_path):
    import tests.agents.conftest  # noqa: F401  (registers the coin-flip task)

    run = api.train(
        agent={"kind": "score", "stage1_steps": 1, "stage2_steps": 1, "lr": 1e-3},
        env="coin-test",
        model=str(tiny_model_dir),
        run_dir=str(tmp_path / "train"),
        sampling={"max_new_tokens": 6},
        problems_per_step=2,
        samples=2,
    )
    assert run.updates == 2 and run.episodes_sampled == 8
    result = api.benchmark(
        config="benchmark_quick",
        methods=["prompting", "score"],
        updates=1,
        eval_problems=4,
        scaling={"problems": 0},
        distribution_shift=False,
        report_dir=str(tmp_path / "bench"),
    )
    assert [o.name for o in result.outcomes] == ["prompting", "score"]
    assert all(isinstance(o, MethodResult) for o in result.outcomes)
    assert (result.report_dir / "results.md").exists()


def test_a_mistake_raises_before_any_model_loads():
    with pytest.raises(ConfigError, match=r"unknown config key 'limt'.*Did you mean 'limit'"):
        api.evaluate(model="embedded", limt=4)
