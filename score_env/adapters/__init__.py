"""Adapters: any registered ``score/`` env, unchanged, inside a large RL engine's environment interface.

One module per engine, each behind its own optional extra, none imported by the core:

| module | engine (extra) | what the engine gets |
|---|---|---|
| ``verifiers_v1`` | verifiers 0.4 (``score-env[verifiers]``) | the taskset ``score_env_verifiers``: env and harness |
| ``verifiers_env`` | verifiers 0.2.1-0.3.x (the same extra) | a ``MultiTurnEnv``; ``load_environment(env=...)`` |
| ``skyrl_env`` | SkyRL's skyrl-gym (``score-env[skyrl]``) | a registered ``BaseTextEnv`` and its dataset rows |
| ``gem_env`` | GEM, gem-llm (``score-env[gem]``) | registered ``gem.Env``s with the Gymnasium 5-tuple |
| ``openenv_server`` | OpenEnv, openenv-core (``score-env[openenv]``) | an env server, ``score-env serve env=math`` |
| ``nemo_gym_env`` | NeMo Gym, nemo-gym (``score-env[nemo-gym]``) | a ``GymnasiumServer`` for its ``gymnasium_agent`` |

Every adapter drives the core :class:`~score_env.env.SelfCorrectionEnv` through :class:`~score_env.adapters.episode.
EpisodeSession`, so every adapter guarantees the same three properties (``episode.py`` says how):

- **intrinsic**: what the model sees after an attempt is the task's correction instruction, identical whether the
  attempt was right or wrong; grades travel only in the engine's reward and diagnostics channels;
- **the grader boundary**: an attempt graded ``error`` (the grader or the sandbox failed) is an error for the engine
  (:class:`~score_env.adapters.episode.GradingError`, or the engine's own failed-rollout flag), never a reward of 0;
- **per-turn rewards**: each attempt's reward, and each self-verdict's with ``stop="model_decides"``, reaches the
  engine as its own per-turn reward where it has one, and by name (``attempt_1`` ... ``attempt_T``, ``verdicts``)
  where it takes one number per rollout: never the last attempt's reward alone.

``tests/adapters`` runs one conformance suite against every adapter with its real engine package installed
(``.ci/adapters.sh``).
"""
