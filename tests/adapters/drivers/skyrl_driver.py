"""SkyRL: the dataset rows from ``skyrl_dataset``, ``skyrl_gym.make(env_class, env_config=..., extras=...)``, then
the generator's loop (``init``, then ``step`` until done, appending the response and the returned observations to
the chat); metrics aggregated by skyrl-gym's own ``aggregate_for_environment``."""

from __future__ import annotations

import skyrl_gym
from skyrl_gym.metrics import aggregate_for_environment

from score_env.adapters.skyrl_env import register_skyrl_env, skyrl_dataset
from score_env.records import to_conversation
from tests.adapters.harness import Case, Played, PlayedEpisode, Script


def env_class_of(case: Case) -> str:
    return f"{case.env}|{case.split}|{case.max_attempts}|{case.stop}"


def play(case: Case, script: Script) -> Played:
    env_class = env_class_of(case)
    register_skyrl_env(env_class, env=case.env, split=case.split, max_attempts=case.max_attempts, stop=case.stop)
    rows = {row["extra_info"]["index"]: row for row in skyrl_dataset(env_class)}
    episodes, metrics = [], []
    for index in case.indices:
        row = dict(rows[index])
        prompt, env_class = row.pop("prompt"), row.pop("env_class")
        env = skyrl_gym.make(env_class, env_config={}, extras={**row, "max_turns": 1})  # as SkyRL's generator does
        chat, _ = env.init(prompt)
        prompts, rewards, reasons, done = [], [], [], False
        while not done:
            prompts.append(to_conversation(chat))
            response = script(prompts[-1])
            output = env.step(response)
            chat = [*chat, {"role": "assistant", "content": response}, *output["observations"]]
            rewards.append(output["reward"])
            reasons.append(output["metadata"]["reason"])
            done = output["done"]
        metrics.append(env.get_metrics())
        env.close()
        episodes.append(PlayedEpisode(output["metadata"]["problem_id"], tuple(prompts), tuple(rewards), tuple(reasons)))
    return Played(tuple(episodes), aggregate_for_environment(env_class, metrics))
