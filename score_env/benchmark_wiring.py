"""A benchmark's wiring: its envs and agents, every name and argument of its config checked before any model loads
(``score-env benchmark`` and ``score-env sweep``, through :mod:`score_env.api`)."""

from __future__ import annotations

from functools import partial

from score_env import envs as _envs  # noqa: F401  (registers the task envs, in a benchmark's worker processes too)
from score_env.benchmark.method import Wiring
from score_env.config import BenchmarkConfig, ConfigError
from score_env.config.load import agent_names, load_agent_config
from score_env.preflight import check_env_choice, env_factory, import_tasks


def benchmark_wiring(config: BenchmarkConfig) -> tuple[Wiring, str]:
    """The envs and agents of a benchmark config, every name and argument checked before any model loads."""
    import_tasks(config.imports)
    train_id, short = check_env_choice(config.env, config.train_split, config.model, config.policy)
    eval_id, _ = check_env_choice(config.eval_env or config.env, config.eval_split)
    paths = [name for name in config.methods if "/" in name or name.endswith((".yaml", ".yml"))]
    if paths:
        raise ConfigError(
            f"methods take agent names, not files ({paths[0]!r}): put your agent file in ./configs/agents/ and name "
            "it by its file name (score-env agents lists every name and where it comes from)"
        )
    agent_configs = {name: load_agent_config(name) for name in config.methods}  # unknown names fail here
    if agent_configs[config.methods[0]].trains:
        base = f"got {config.methods}"
        raise ConfigError(f"methods must start with an agent that trains nothing (the base model, prompting), {base}")
    if config.policy.served and (training := [n for n in config.methods if agent_configs[n].trains]):
        raise ConfigError(f"policy.backend=openai only samples a served model: methods={config.methods} train "
                          f"{', '.join(training)}; benchmark it with methods=[prompting]")  # fmt: skip
    trained = [name for name in agent_names() if load_agent_config(name).trains]
    unknown = sorted(set(config.lrs) - set(trained))
    if unknown:
        raise ConfigError(f"lrs names {unknown}: not trained agents. Allowed: {', '.join(trained)}")
    wiring = Wiring(
        train_env=env_factory(train_id, config.train_split, "intrinsic", config.env_kwargs),
        eval_env=env_factory(eval_id, config.eval_split, "intrinsic", config.env_kwargs),
        agent_config=agent_configs.__getitem__,
        prepare=partial(worker_imports, list(config.imports)),
    )
    if config.validation_problems >= wiring.train_env.n_problems:
        raise ConfigError(
            f"validation_problems={config.validation_problems} leaves no training problems "
            f"({wiring.train_env.n_problems} in {train_id} {config.train_split})"
        )
    return wiring, short


def worker_imports(modules: list[str]) -> None:
    """What a benchmark worker process imports first: this module (it registers the task envs) and the user's."""
    import_tasks(modules)
