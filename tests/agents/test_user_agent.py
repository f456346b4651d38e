"""An agent from a file outside the repository registers like a built-in one, trains with `score-env train` and
joins `score-env benchmark methods=[...]` (issue #25): its module (config + agent + register_agent) and `import=`."""

from __future__ import annotations

import json

from score_env.cli import main
from score_env.config import agent_config, registered_agents
from tests.agents.conftest import TINY_TRAIN

MODULE = '''
"""A user's variant of Pair-SFT: its own kind, config and agent, registered like the built-in ones."""
from dataclasses import dataclass
from typing import ClassVar, Literal

from score_env.agents.sft import SFTAgent, SFTAgentConfig
from score_env.config import register_agent


class HalfPairsConfig(SFTAgentConfig):
    """Pair-SFT on at most one pair per problem."""

    kind: Literal["half_pairs"] = "half_pairs"
    trains: ClassVar[bool] = True
    max_pairs_per_problem: int = 1


@dataclass(frozen=True)
class HalfPairsAgent(SFTAgent):
    name: str = "half_pairs"


register_agent("half_pairs", HalfPairsConfig, HalfPairsAgent)
'''


def test_an_agent_from_outside_the_repository_trains_and_joins_a_benchmark(tiny_model_dir, tmp_path):
    module = tmp_path / "elsewhere" / "my_agents.py"
    module.parent.mkdir()
    module.write_text(MODULE)
    run_dir = tmp_path / "train"
    argv = ["train", f"model={tiny_model_dir}", f"run_dir={run_dir}", f"import={module}", "agent=half_pairs"]
    assert main([*argv, "agent.problems=4", "agent.updates=2", "agent.lr=1e-3", *TINY_TRAIN]) == 0
    saved = (run_dir / "config.yaml").read_text()
    assert "kind: half_pairs" in saved and "max_pairs_per_problem: 1" in saved
    assert "half_pairs" in {spec.kind for spec in registered_agents()}
    assert agent_config("half_pairs").max_pairs_per_problem == 1

    report = tmp_path / "report"
    bench = ["benchmark", "config=benchmark_quick", f"report_dir={report}", f"import={module}",
             "methods=[prompting,half_pairs]", "scaling.problems=0", "distribution_shift=false"]  # fmt: skip
    assert main(bench) == 0
    results = json.loads((report / "results.json").read_text())
    assert [r["name"] for r in results] == ["prompting", "half_pairs"]
    assert all(r["status"] != "failed" for r in results), results
