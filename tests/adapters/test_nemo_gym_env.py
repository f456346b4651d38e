"""The NeMo Gym adapter with nemo-gym itself: its ``/reset``, ``/step`` and ``/aggregate_metrics``, the rollout's one
reward as NeMo Gym's agent sums it, errors that fail the rollout, and the envs the server owns."""

from __future__ import annotations

import pytest

from tests.adapters.conftest import require_engine

require_engine("nemo_gym")

from fastapi.testclient import TestClient  # noqa: E402  (after the skip)
from pydantic import ValidationError  # noqa: E402

from score_env.adapters.episode import EpisodeSession, GradingError  # noqa: E402
from score_env.adapters.nemo_gym_env import ScoreGymnasiumConfig, ScoreGymnasiumServer, nemo_gym_rows  # noqa: E402
from tests.adapters.drivers.nemo_gym_driver import collect, model_response  # noqa: E402
from tests.adapters.harness import PROBE_ENV, PROBE_INSTRUCTION, Case  # noqa: E402
from tests.conftest import turn_of  # noqa: E402


def step(client: TestClient, row: dict, text: str) -> dict:
    answer = client.post("/step", json=row | {"response": model_response(text)})
    assert answer.status_code == 200, answer.text
    return answer.json()


def test_rows_carry_the_first_prompt_the_index_and_the_problem_id():
    row = nemo_gym_rows(PROBE_ENV, "test", [2], agent="score_agent")[0]
    assert row == {
        "responses_create_params": {"input": [{"role": "user", "content": "Say the word green."}]},
        "index": 2,
        "problem_id": "probe/2",
        "agent_ref": {"type": "responses_api_agents", "name": "score_agent"},
    }


def test_one_episode_through_the_gymnasium_endpoints():
    row = nemo_gym_rows(PROBE_ENV, "test", [2])[0]
    with TestClient(ScoreGymnasiumServer.for_env(PROBE_ENV, "test").setup_webserver()) as client:
        reset = client.post("/reset", json=row).json()
        assert reset == {"observation": None, "info": {"problem_id": "probe/2", "attempt": 0}}
        first = step(client, row, "green")
        assert (first["observation"], first["reward"], first["terminated"], first["truncated"]) == (
            PROBE_INSTRUCTION, 1.0, False, False,
        )  # fmt: skip
        assert first["info"] == {
            "correct": True, "reason": "ok", "extracted": "green", "detail": "", "turn": "attempt", "attempt": 1,
            "problem_id": "probe/2",
        }  # fmt: skip
        last = step(client, row, "GREEN")
        assert (last["observation"], last["reward"], last["terminated"]) == (None, 0.0, True)
        assert last["info"]["metrics"] == {
            "acc@t1": 1.0, "acc@t2": 0.0, "delta": -1.0, "delta_i_to_c": 0.0, "delta_c_to_i": 1.0,
            "attempt_1": 1.0, "attempt_2": 0.0, "verdicts": 0.0,
        }  # fmt: skip


def test_nemo_gym_pays_a_wrong_first_attempt_on_purpose_no_more_than_right_twice():
    """The rollout's one ``reward`` (NeMo Gym's agent sums the per-step rewards; what NeMo RL trains on) and NeMo
    Gym's aggregate: wrong on purpose then fixed earns 1, right twice 2, and the rewards by name say which attempt."""
    case = Case(PROBE_ENV, "test", 2, (0,))
    paid = {}
    for name, turns in (("fix", ("RED", "red")), ("keep", ("red", "red"))):
        rollouts, aggregate = collect(case, lambda conversation, turns=turns: turns[turn_of(conversation) - 1])
        assert [s["reward"] for s in rollouts[0].steps] == [float(t == "red") for t in turns]  # per-step rewards
        paid[name] = (rollouts[0].result["reward"], aggregate["key_metrics"])
    (fix, fix_metrics), (keep, keep_metrics) = paid["fix"], paid["keep"]
    assert (fix, keep) == (1.0, 2.0)
    assert fix_metrics["mean/reward"] == 1.0 and keep_metrics["mean/reward"] == 2.0
    assert (fix_metrics["score/attempt_1"], fix_metrics["score/attempt_2"]) == (0.0, 1.0)
    assert (keep_metrics["score/attempt_1"], keep_metrics["score/delta_i_to_c"]) == (1.0, 0.0)


def test_a_grading_error_fails_the_rollout_instead_of_a_zero_reward():
    with pytest.raises(RuntimeError, match=r"/run: HTTP 500: .*GradingError.*the probe grader crashed"):
        collect(Case(PROBE_ENV, "test", 2, (0,)), lambda conversation: "CRASH")
    # At the server: the episode is over, and the next rollout on the same env starts cleanly.
    row = nemo_gym_rows(PROBE_ENV, "test", [0])[0]
    with TestClient(ScoreGymnasiumServer.for_env(PROBE_ENV, "test").setup_webserver()) as client:
        client.post("/reset", json=row)
        with pytest.raises(GradingError, match="the probe grader crashed"):
            step(client, row, "CRASH")
        with pytest.raises(RuntimeError, match="/step without an episode"):
            step(client, row, "red")
        client.post("/reset", json=row)
        assert step(client, row, "red")["reward"] == 1.0


def test_a_row_of_another_dataset_fails_loudly():
    row = nemo_gym_rows(PROBE_ENV, "test", [0])[0]
    with TestClient(ScoreGymnasiumServer.for_env(PROBE_ENV, "test").setup_webserver()) as client:
        with pytest.raises(ValueError, match="an int 'index', got None"):
            client.post("/reset", json={k: v for k, v in row.items() if k != "index"})
        with pytest.raises(ValueError, match=r"index 0 is problem 'probe/0' .* the row says 'arithmetic/test/0'"):
            client.post("/reset", json=row | {"problem_id": "arithmetic/test/0"})


def test_an_unknown_env_split_or_stop_fails_when_the_server_is_configured():
    config = {"host": "127.0.0.1", "port": 0, "entrypoint": "app.py", "name": "score_env"}
    with pytest.raises(ValidationError, match="arithmetic"):  # the allowed names
        ScoreGymnasiumConfig(**config, env="arithmetc")
    with pytest.raises(ValidationError, match="Allowed: test"):
        ScoreGymnasiumConfig(**config, env=PROBE_ENV, split="train")
    with pytest.raises(ValidationError, match="stop"):
        ScoreGymnasiumConfig(**config, env=PROBE_ENV, split="test", stop="on_correct")


def test_metrics_of_rollouts_cut_before_their_last_turn_are_refused():
    server = ScoreGymnasiumServer.for_env(PROBE_ENV, "test", stop="model_decides")
    finished = {"reward": 1.0, "info": {"metrics": {"acc@t1": 1.0}}}
    with pytest.raises(ValueError, match=r"1 of 2 rollouts .* max_steps >= 3"):
        server.compute_metrics([[finished, {"reward": 0.0, "info": {"turn": "attempt"}}]])


def test_the_server_reuses_its_envs_and_closes_them_when_it_stops(monkeypatch):
    closed = []
    monkeypatch.setattr(EpisodeSession, "close", lambda self: closed.append(self))
    rows = nemo_gym_rows(PROBE_ENV, "test", [0, 1])
    with TestClient(ScoreGymnasiumServer.for_env(PROBE_ENV, "test").setup_webserver()) as client:
        for row in rows:  # one after the other: the second episode plays on the first one's env
            client.post("/reset", json=row)
            step(client, row, "red")
            step(client, row, "red")
        assert closed == []
    assert len(closed) == 1
