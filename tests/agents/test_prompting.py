"""The prompting agent: the base policy, untouched, behind the Agent interface."""

from __future__ import annotations

import gymnasium as gym

from score_env.agents import build_agent
from score_env.agents.prompting import PromptingAgentConfig
from score_env.policies import SamplingParams
from score_env.rollout import collect_episodes
from score_env.training.agent import Agent
from tests.conftest import ScriptedPolicy


def test_prompting_agent_plays_the_env_with_the_base_policy():
    base = ScriptedPolicy(lambda conversation: "Answer: 3")
    agent = build_agent(PromptingAgentConfig(), base)
    assert isinstance(agent, Agent) and agent.policy is base and agent.name == "prompting"
    episodes = collect_episodes(
        lambda: gym.make("score/Arithmetic-v0", split="test"),
        agent.policy,
        [0, 1],
        SamplingParams(temperature=0.0, top_p=1.0, max_new_tokens=16),
    )
    # The second prompt is the env's own correction instruction: the agent adds nothing.
    from score_env.envs.arithmetic import CORRECTION_INSTRUCTION

    assert all(e.attempts[1].prompt[-1].content == CORRECTION_INSTRUCTION for g in episodes for e in g.episodes)
