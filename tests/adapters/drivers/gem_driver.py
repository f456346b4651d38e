"""GEM: ``gem.make`` the registered env and play it the way GEM's ``ObservationWrapper`` builds a chat (each
observation a user turn, each action an assistant turn). GEM has no metric aggregation of its own: the mean."""

from __future__ import annotations

import gem
import numpy as np

from score_env.adapters.gem_env import register_gem_env
from score_env.records import to_conversation
from tests.adapters.harness import Case, Played, PlayedEpisode, Script


def play(case: Case, script: Script) -> Played:
    gem_id = register_gem_env(case.env)
    episodes, metrics = [], []
    for index in case.indices:
        env = gem.make(gem_id, split=case.split, max_attempts=case.max_attempts, stop=case.stop)
        observation, _ = env.reset(idx=index)
        chat = [{"role": "user", "content": observation}]
        prompts, rewards, reasons, done = [], [], [], False
        while not done:
            prompts.append(to_conversation(chat))
            response = script(prompts[-1])
            observation, reward, terminated, truncated, info = env.step(response)
            chat += [{"role": "assistant", "content": response}, {"role": "user", "content": observation}]
            rewards.append(float(reward))
            reasons.append(info["reason"])
            done = terminated or truncated
        env.close()
        metrics.append(info["metrics"])
        episodes.append(PlayedEpisode(info["problem_id"], tuple(prompts), tuple(rewards), tuple(reasons)))
    return Played(tuple(episodes), {name: float(np.mean([m[name] for m in metrics])) for name in metrics[0]})
