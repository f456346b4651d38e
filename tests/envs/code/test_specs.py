"""What the judge receives: trusted tests and helpers only, and the MBPP tasks that need an adapter."""

from __future__ import annotations

from score_env.envs.code.driver import driver_program
from score_env.envs.code.specs import mbpp_adapters
from score_env.envs.code.tasks import humaneval_problems, humaneval_specs, mbpp_entry_point, mbpp_rows, mbpp_specs


def test_humaneval_helpers_come_from_the_prompt_and_the_entry_point_is_remote():
    spec = humaneval_specs()["HumanEval/32"]  # find_zero: the tests call the prompt's poly
    assert "def poly(" in spec.prelude and spec.remote == ("find_zero",) and spec.call == "check(find_zero)"


def test_mbpp_names_the_tests_call_are_remote_even_when_they_shadow_a_builtin():
    assert mbpp_specs()["mbpp/126"].remote == ("sum",)  # the solution defines `sum`, the tests call it


def test_mbpp_adapters_are_few_and_listed():
    rows = mbpp_rows()
    adapters = mbpp_adapters(rows, {i: mbpp_entry_point(row) for i, row in rows.items()})
    assert adapters == {
        "classes built on the candidate's side": [367, 601, 927],  # Node trees, Pair lists
        "modules imported by the judge": [596],  # the tests call sys.getsizeof; only the solution imports sys
    }
    assert mbpp_specs()["mbpp/601"].classes == ("Pair",) and mbpp_specs()["mbpp/596"].prelude == "import sys\n"


def test_nothing_of_the_tests_enters_the_candidates_program():
    for problem in humaneval_problems()[:20]:
        program = driver_program(str(problem.metadata["canonical_solution"]))
        assert "def check(" not in program and problem.reference.strip() not in program
