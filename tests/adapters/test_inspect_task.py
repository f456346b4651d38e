"""The Inspect task with inspect-ai itself: ``eval`` of ``score_env_task`` with Inspect's ``mockllm/model`` provider.

The mock answers either from a fixed output sequence (consumed in dataset order: ``max_samples=1``) or from a
scripted policy's function of the conversation (the conformance cases of ``harness``). Every output carries its
token usage: without it the mock counts tokens with tiktoken, whose encoding it downloads on first use.
Inspect evaluates, it does not train: the per-turn reward cases of ``test_conformance`` (run for the trainers) are
not its concern, and these tests compare the prompts, grades and SCoRe metrics with the same core reference.
"""

from __future__ import annotations

import pytest

from tests.adapters.conftest import require_engine

require_engine("inspect")

from inspect_ai import eval as inspect_eval  # noqa: E402  (after the skip)
from inspect_ai.log import EvalLog, EvalSample  # noqa: E402
from inspect_ai.model import ChatMessage, ModelOutput, ModelUsage, get_model  # noqa: E402

from score_env.adapters.inspect_task import score_env_task  # noqa: E402
from score_env.metrics import self_correction_metrics  # noqa: E402
from score_env.records import Conversation, Message  # noqa: E402
from score_env.text import escape_surrogates  # noqa: E402
from tests.adapters.harness import (  # noqa: E402
    CASES,
    PROBE_ENV,
    PROBE_INSTRUCTION,
    PROBE_PROBLEMS,
    PROBE_RIGHT_ENV,
    PROBE_WRONG_ENV,
    SCRIPTS,
    Case,
    Script,
    reference,
)
from tests.conftest import turn_of  # noqa: E402
from tests.hostile import HOSTILE  # noqa: E402

SCORER = "self_correction_scorer"


def output(text: str) -> ModelOutput:
    result = ModelOutput.from_content(model="mockllm", content=text)
    result.usage = ModelUsage(input_tokens=1, output_tokens=1, total_tokens=2)
    return result


def run(case: Case, outputs, tmp_path, **eval_args) -> EvalLog:
    """``case`` played by Inspect's mock model; ``outputs``: a list of outputs, or a function of the input."""
    model = get_model("mockllm/model", custom_outputs=outputs, memoize=False)
    task = score_env_task(env=case.env, split=case.split, limit=max(case.indices) + 1, max_attempts=case.max_attempts)
    ids = [task.dataset[i].id for i in case.indices]
    [log] = inspect_eval(task, model=model, sample_id=ids, display="none", log_dir=str(tmp_path), **eval_args)
    return log


def scripted(script: Script):
    """A scripted policy as the mock's outputs: a function of the conversation Inspect sends."""
    return lambda messages, tools, tool_choice, config: output(script(conversation(messages)))


def conversation(messages: list[ChatMessage]) -> Conversation:
    return tuple(Message(m.role, m.text) for m in messages)


def prompts(sample: EvalSample) -> tuple[Conversation, ...]:
    """What the model answered at each attempt: the conversation before each of its messages."""
    messages = conversation(sample.messages)
    return tuple(messages[:i] for i, m in enumerate(messages) if m.role == "assistant")


def attempts(sample: EvalSample) -> list[dict]:
    return sample.scores[SCORER].metadata["attempts"]


def metrics(log: EvalLog) -> dict[str, float]:
    [score] = log.results.scores
    return {name: m.value for name, m in score.metrics.items()}


def in_order(log: EvalLog, problem_ids: list[str]) -> list[EvalSample]:
    by_id = {sample.id: sample for sample in log.samples}
    return [by_id[problem_id] for problem_id in problem_ids]


# Each probe problem's two answers, in dataset order: R right, W wrong, U unparsable.
SEQUENCE_PLANS = ("WR", "RR", "RW", "WW", "UR", "WR", "RU")


def planned(word: str, step: str) -> str:
    return {"R": word, "W": word.upper(), "U": "..."}[step]


def test_a_mock_output_sequence_gives_the_metrics_of_score_env_metrics(tmp_path):
    sequence = [
        output(planned(p.reference, step))
        for p, plan in zip(PROBE_PROBLEMS, SEQUENCE_PLANS, strict=True)
        for step in plan
    ]
    case = Case(PROBE_ENV, "test", 2, tuple(range(len(PROBE_PROBLEMS))))
    log = run(case, sequence, tmp_path, max_samples=1)  # one sample at a time: the sequence goes in dataset order
    assert log.status == "success"

    def script(conv: Conversation) -> str:  # the same answers, for the core rollout loop
        word = conv[0].content.removeprefix("Say the word ").rstrip(".")
        index = [p.reference for p in PROBE_PROBLEMS].index(word)
        return planned(word, SEQUENCE_PLANS[index][turn_of(conv) - 1])

    episodes, _ = reference(case, script)
    report = self_correction_metrics(episodes, attempts=2, n_bootstrap=0)
    names = ("acc@t1", "acc@t2", "delta", "delta_i_to_c", "delta_c_to_i")
    assert metrics(log) == pytest.approx({name: report.estimates[name].value for name in names})
    assert metrics(log)["delta_i_to_c"] > 0 and metrics(log)["delta_c_to_i"] > 0  # both transitions happened
    samples = in_order(log, [e.problem_id for e in episodes])
    # The log viewer's per-sample record: each attempt's text and grade, and the episode's values.
    assert [[a["text"] for a in attempts(s)] for s in samples] == [[a.text for a in e.attempts] for e in episodes]
    assert [[a["grade"]["reason"] for a in attempts(s)] for s in samples] == [
        [a.grade.reason.value for a in e.attempts] for e in episodes
    ]
    assert samples[0].scores[SCORER].value == {
        "acc@t1": 0.0,
        "acc@t2": 1.0,
        "delta": 1.0,
        "delta_i_to_c": 1.0,
        "delta_c_to_i": 0.0,
    }
    assert samples[0].scores[SCORER].explanation == "t1: wrong (RED) → t2: ok (red)"


@pytest.mark.parametrize("case_name", sorted(n for n, c in CASES.items() if getattr(c, "stop", "fixed") == "fixed"))
def test_prompts_grades_and_metrics_equal_the_core_rollout(case_name, tmp_path):
    case, script = CASES[case_name], SCRIPTS[case_name]
    expected, expected_metrics = reference(case, script)
    log = run(case, scripted(script), tmp_path)
    samples = in_order(log, [e.problem_id for e in expected])
    assert [prompts(s) for s in samples] == [tuple(a.prompt for a in e.attempts) for e in expected]
    assert [[a["reward"] for a in attempts(s)] for s in samples] == [[a.reward for a in e.attempts] for e in expected]
    assert [[a["grade"]["reason"] for a in attempts(s)] for s in samples] == [
        [a.grade.reason.value for a in e.attempts] for e in expected
    ]
    assert metrics(log) == pytest.approx({name: expected_metrics[name] for name in metrics(log)})
    assert set(metrics(log)) == {f"acc@t{t}" for t in range(1, case.max_attempts + 1)} | {
        "delta",
        "delta_i_to_c",
        "delta_c_to_i",
    }


def test_what_the_model_sees_after_attempt_one_does_not_depend_on_its_grade(tmp_path):
    seen = []
    for env in (PROBE_RIGHT_ENV, PROBE_WRONG_ENV):
        log = run(Case(env, "test", 2, (0,)), scripted(lambda conv: "red"), tmp_path)
        [sample] = log.samples
        seen.append(prompts(sample))
        assert [a["reward"] for a in attempts(sample)] == ([1.0, 1.0] if env == PROBE_RIGHT_ENV else [0.0, 0.0])
    assert seen[0] == seen[1]
    assert seen[0][1][-1] == Message("user", PROBE_INSTRUCTION)


def test_hostile_responses_reach_the_next_prompt_and_the_log_exactly(tmp_path):
    """Each family of ``tests.hostile`` as attempt 1 (problem i answers family i): Inspect writes and reads back its
    log, and the model's second prompt holds the response exactly. Not a lone surrogate: Inspect's own log writer
    (pydantic's JSON) fails the whole eval on one in a model's output, whatever the task (inspect-ai 0.3.285)."""
    families = [text for text in HOSTILE.values() if escape_surrogates(text) == text]
    words = [p.reference for p in PROBE_PROBLEMS]

    def hostile(conv: Conversation) -> str:
        word = conv[0].content.removeprefix("Say the word ").rstrip(".")
        return families[words.index(word) % len(families)]

    case = Case(PROBE_WRONG_ENV, "test", 2, tuple(range(len(words))))
    log = run(case, scripted(hostile), tmp_path)
    assert log.status == "success"
    samples = in_order(log, [f"probe/{i}" for i in range(len(words))])
    assert [prompts(s)[1][1].content for s in samples] == [families[i % len(families)] for i in range(len(words))]


def test_a_grading_error_fails_the_sample_instead_of_scoring_zero(tmp_path):
    log = run(Case(PROBE_ENV, "test", 2, (0,)), scripted(lambda conv: "CRASH"), tmp_path)
    assert log.status == "error"
    [sample] = log.samples
    assert "the probe grader crashed" in sample.error.message and "not a wrong answer" in sample.error.message
    assert not sample.scores


def test_an_episode_cut_by_an_inspect_limit_is_unscored_and_left_out_of_the_metrics(tmp_path):
    # Two messages: the first prompt and attempt 1; attempt 2 would need four.
    log = run(Case(PROBE_ENV, "test", 2, (0, 1)), scripted(lambda conv: "red"), tmp_path, message_limit=2)
    assert log.status == "success"
    for sample in log.samples:
        score = sample.scores[SCORER]
        assert score.reason == "episode_cut" and len(attempts(sample)) == 1
    [result] = log.results.scores
    assert (result.scored_samples, result.unscored_samples) == (0, 2)
