"""Config loading: every preset validates; every mistake is one clear message before anything loads."""

from __future__ import annotations

import pytest

from score_env.agents.prompting import PromptingAgentConfig
from score_env.cli import main
from score_env.config import (
    ConfigError,
    EvalConfig,
    TrainConfig,
    agent_names,
    configs_dir,
    load_config,
)
from score_env.config.benchmark import BenchmarkConfig

PRESETS = {
    "benchmark": (BenchmarkConfig, []),
    "benchmark_quick": (BenchmarkConfig, []),
    "benchmark_full": (BenchmarkConfig, []),
    # the GPU presets: validated here with the CPU swapped in (their own device and backend are checked below)
    "benchmark_math": (BenchmarkConfig, ["model=some/model", "policy.device=cpu", "policy.backend=auto"]),
    "benchmark_humaneval": (BenchmarkConfig, ["model=some/model", "policy.device=cpu", "policy.backend=auto"]),
}


def test_every_yaml_in_configs_is_covered():
    files = {p.stem for p in configs_dir().glob("*.yaml")}
    assert files == set(PRESETS)


@pytest.mark.parametrize("preset", sorted(PRESETS))
def test_every_preset_validates(preset):
    model, required = PRESETS[preset]
    assert isinstance(load_config(model, preset, required), model)
    first_line = (configs_dir() / f"{preset}.yaml").read_text().splitlines()[0]
    assert first_line.startswith("# score-env ")  # every config starts with the command that runs it


def leaves(data, prefix=""):
    for key, value in data.items():
        if isinstance(value, dict) and value:
            yield from leaves(value, f"{prefix}{key}.")
        else:
            yield f"{prefix}{key}", value


@pytest.mark.parametrize(
    ("path", "model"),
    [(f"{name}.yaml", PRESETS[name][0]) for name in PRESETS]
    + [(f"agents/{name}.yaml", TrainConfig if name != "prompting" else EvalConfig) for name in agent_names()],
)
def test_no_preset_restates_a_default(path, model):
    """Every default has one place, the pydantic model: a preset records only what differs from it."""
    import yaml

    data = yaml.safe_load((configs_dir() / path).read_text())
    if path.startswith("agents/"):
        data = {"agent": data}
    kind = data.get("agent", {}).get("kind")
    for key, value in leaves(data):
        if key == "agent.kind":
            continue
        default = _default_of(model, key, kind)
        assert value != default, f"{path}: {key}: {value!r} is the default already ({model.__name__})"


def _default_of(model, dotted, kind):
    from pydantic_core import PydanticUndefined

    from score_env.agents.prompting import PromptingAgentConfig
    from score_env.agents.score import ScoreAgentConfig
    from score_env.agents.sft import SFTAgentConfig
    from score_env.agents.star import StarAgentConfig

    kinds = {
        "prompting": PromptingAgentConfig,
        "score": ScoreAgentConfig,
        "sft": SFTAgentConfig,
        "star": StarAgentConfig,
    }
    head, _, rest = dotted.partition(".")
    if head == "agent":
        model, head, _, rest = kinds[kind], *rest.partition(".")
    field = model.model_fields[head]
    value = field.default if field.default is not PydanticUndefined else None
    for part in rest.split(".") if rest else []:
        value = value.get(part) if isinstance(value, dict) else getattr(value, part)
    return value


def test_presets_are_found_by_name_from_any_directory(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert load_config(BenchmarkConfig, "benchmark", ["config=benchmark_quick"]).updates == 2
    with pytest.raises(ConfigError, match="Did you mean 'benchmark_quick'"):
        load_config(BenchmarkConfig, "benchmark", ["config=benchmark_quik"])


@pytest.mark.parametrize("agent", agent_names())
def test_every_agent_file_validates(agent):
    prompting = agent.startswith("prompting")
    model = EvalConfig if prompting else TrainConfig
    assert load_config(model, "eval" if prompting else "train", [f"agent={agent}", "model=m"]).agent.kind


def test_overrides_merge_into_the_preset():
    config = load_config(EvalConfig, "eval", ["model=m", "limit=5", "sampling.top_p=0.5", "env_kwargs.digits=3"])
    assert (config.limit, config.sampling.top_p, config.env_kwargs) == (5, 0.5, {"digits": 3})
    assert config.agent == PromptingAgentConfig()


def test_a_whole_config_file_can_replace_the_preset(tmp_path):
    path = tmp_path / "mine.yaml"
    path.write_text("agent: prompting\nenv: arithmetic\nmodel: m\nlimit: 3\n")
    assert load_config(EvalConfig, "eval", [f"config={path}"]).limit == 3


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        # 1. a misspelt top-level key: named, with the closest allowed key
        (["model=m", "limt=5"], r"unknown config key 'limt' \(value 5\).*Did you mean 'limit'\?"),
        # 2. a misspelt nested key
        (["model=m", "sampling.temprature=1"], r"unknown config key 'sampling.temprature'.*'temperature'"),
        # 3. a value outside a fixed set: the allowed values
        (["model=m", "policy.dtype=float64"], r"'policy.dtype' = 'float64'.*Allowed: float32, bfloat16, float16"),
        # 4. the wrong type
        (["model=m", "limit=abc"], r"'limit' = 'abc'.*valid integer"),
        # 5. out of range
        (["model=m", "samples=0"], r"'samples' = 0.*greater than 0"),
        # 6. an unknown agent
        (
            ["model=m", "agent=scor"],
            r"agent='scor' is not an agent. Allowed: multi_attempt, pag, prompting.*Did you mean 'score'",
        ),
        # 7. an unknown agent kind given inline
        (
            ["model=m", "agent.kind=rl"],
            r"agent.kind='rl' is not an agent kind. "
            r"Allowed: multi_attempt, pag, prompting, score, self_rewarding, sft, star",
        ),
        # 8. a required key left out
        ([], r"missing required config key 'model'"),
        # 9. not key=value
        (["model"], r"cannot read 'model': overrides are key=value"),
        # 10. a key inside the agent's section
        (["model=m", "agent.lr=1"], r"unknown config key 'agent.lr'.*Allowed: kind"),
        # 11. a config file that does not exist
        (["config=/nonexistent.yaml"], r"config='/nonexistent.yaml' is neither a YAML file nor a shipped preset"),
    ],
)
def test_mistakes_name_the_key_the_value_and_the_allowed(overrides, message):
    with pytest.raises(ConfigError, match=message):
        load_config(EvalConfig, "eval", overrides)


@pytest.fixture
def no_model_loading(monkeypatch):
    from score_env.policies.transformers_backend import TransformersPolicy

    def refuse(*args, **kwargs):
        raise AssertionError("a model was loaded before the config was checked")

    monkeypatch.setattr(TransformersPolicy, "from_pretrained", refuse)


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["eval", "model=m", "env=arithmetc"], "env='arithmetc': unknown env 'arithmetc'. Allowed: arithmetic"),
        (["eval", "model=m", "split=validation"], "split='validation' is not a split of score/Arithmetic-v0"),
        (["eval", "model=./no/such/dir"], "model='./no/such/dir': no such directory"),
        (["eval", "model=embedded", "env_kwargs.digitz=3"], "unknown env_kwargs key 'digitz'"),
        (["eval", "model=m", "policy.dtype=fp64"], "'policy.dtype' = 'fp64' is not allowed"),
        (
            ["evaluate"],
            "unknown command 'evaluate'. Allowed: envs, agents, eval, train, benchmark, sweep, pretrain, tiny-model",
        ),
        (["benchmark", "methods=[prompting,scor]"], "agent='scor' is not an agent"),
        (["benchmark", "updates=0"], "'updates' = 0: Input should be greater than 0"),
        (["train", "model=m", "agent=score", "agent.alpha=-1"], "'agent.alpha' = -1: Input should be greater than"),
        (["train", "model=m", "agent=sft", "agent.stage1_steps=3"], "unknown config key 'agent.stage1_steps'"),
    ],
)
def test_cli_exits_2_with_one_clear_message_before_loading_a_model(argv, message, capsys, no_model_loading):
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert message in err
    assert "Traceback" not in err and err.count("\n") == 1


def test_each_agent_config_maps_the_budget_onto_its_own_keys():
    from score_env.agents.prompting import PromptingAgentConfig
    from score_env.agents.score import ScoreAgentConfig
    from score_env.agents.sft import SFTAgentConfig
    from score_env.agents.star import StarAgentConfig
    from score_env.config import Budget

    budget = Budget(updates=30, problems=8, samples=4)
    score = ScoreAgentConfig().with_budget(budget)
    assert (score.stage1_steps, score.stage2_steps) == (15, 15)
    no_stage1 = ScoreAgentConfig(stage1_steps=0).with_budget(budget)
    assert (no_stage1.stage1_steps, no_stage1.stage2_steps) == (0, 30)
    single = ScoreAgentConfig(multi_turn=False).with_budget(budget)
    assert single.stage1_steps + single.stage2_steps == 30
    sft = SFTAgentConfig().with_budget(budget)
    assert (sft.problems, sft.updates) == (240, 30)  # 240 problems x k = 30 x 8 x 4 episodes, 30 updates
    star = StarAgentConfig(iterations=3).with_budget(budget)
    assert (star.problems, star.updates) == (240, 30)  # in all, split over the iterations
    assert PromptingAgentConfig().with_budget(budget) == PromptingAgentConfig()
