"""The learning check's correction probe: it measures the policy before training, at the end of each stage and at
the end, and a run with a probe trains exactly as one without; the collapse alarm."""

from __future__ import annotations

import json
from functools import partial

import torch

from score_env.benchmark.probe import COLLAPSE_FALL, collapse_alarm, correction_probe
from score_env.config import TrainConfig
from score_env.config.load import load_config
from score_env.correction import first_attempts
from score_env.evaluation import evaluate_policy
from score_env.policies import SamplingParams
from score_env.preflight import env_factory
from score_env.training.checkpoint import checkpoint_path
from score_env.training.run import train_agent
from tests.agents.conftest import TINY_TRAIN, weights

SCORE = ["agent=score", "agent.stage1_steps=2", "agent.stage2_steps=2", "agent.lr=1e-3", "checkpoint_every=10"]


def test_a_probe_sees_start_stage_end_and_end_and_changes_nothing_in_training(tiny_model_dir, tmp_path):
    config = load_config(TrainConfig, "train", [f"model={tiny_model_dir}", *SCORE, *TINY_TRAIN])
    env = env_factory("score/CoinTest-v0", "train", "intrinsic", {}).open()  # holds nothing to close
    greedy = SamplingParams(temperature=0.0, top_p=1.0, max_new_tokens=6)
    base = config.policy.load(str(tiny_model_dir))
    fixed = first_attempts(evaluate_policy(base, partial(env, 1), range(24, 32), sampling=greedy, seed=0).episodes)
    probe = correction_probe(env, fixed, max_new_tokens=6)

    plain = train_agent(config, env, tmp_path / "plain")
    probed = train_agent(config, env, tmp_path / "probed", probe=probe)
    a, b = (weights(checkpoint_path(run.run_dir, "last") / "model") for run in (plain, probed))
    assert all(torch.equal(a[name], b[name]) for name in a)  # the probe draws from no stream training uses

    records = [json.loads(line) for line in (tmp_path / "probed" / "probes.jsonl").read_text().splitlines()]
    assert [(r["step"], r["stage"]) for r in records] == [(0, "start"), (2, "end of stage1"), (4, "end")]
    wrong = sum(not a.grade.correct for a in fixed.values())
    assert all(0 <= r["acc@t1"] <= 1 and len(r["fixed"]) == wrong for r in records)
    assert not (tmp_path / "plain" / "probes.jsonl").exists()
    assert checkpoint_path(tmp_path / "probed", "last").name == "step-000004"
    assert (tmp_path / "probed" / "checkpoints" / "step-000002").exists()  # a checkpoint at the end of Stage I


def test_the_collapse_alarm_needs_attempt_one_to_fall_while_the_training_delta_rises():
    rising = [{"reward@t1": 0.6 - 0.02 * i, "reward@t2": 0.6} for i in range(10)]  # Δ grows from 0 to +0.18
    flat = [{"reward@t1": 0.6, "reward@t2": 0.6} for _ in range(10)]
    fell = [{"step": 0, "stage": "start", "acc@t1": 0.60}, {"step": 10, "acc@t1": 0.60 - COLLAPSE_FALL - 0.01}]
    held = [{"step": 0, "stage": "start", "acc@t1": 0.60}, {"step": 10, "acc@t1": 0.59}]
    assert "collapse" in collapse_alarm(fell, rising)
    assert collapse_alarm(held, rising) is None
    assert collapse_alarm(fell, flat) is None
    assert collapse_alarm(fell[:1], rising) is None
    resumed = [{**fell[0], "stage": "end of stage1"}, fell[1]]  # no probe before training: no baseline, no alarm
    assert collapse_alarm(resumed, rising) is None
