#!/usr/bin/env bash
# The engine adapters' tests (tests/adapters), for real: each engine's package (verifiers, skyrl-gym, gem-llm,
# openenv-core) in its own virtual environment with score-env installed from this checkout, and tests/adapters run
# in each with that engine's tests required (a missing engine is an error there, not a skip).
#
# The venvs see the main environment's packages (--system-site-packages): torch 2.13.0 CPU, transformers and
# pydantic 2 come from there, since none of the four engines pins against them (checked with pip's resolver); each
# venv adds only its engine and what that pulls. A venv whose stamp (pyproject.toml's hash) matches and whose engine
# imports is reused as it is; the tests import this checkout's code through PYTHONPATH whichever checkout the venv's
# editable install came from, so a fresh clone reuses the venvs too. An install failure (the registry, a moved package) is reported
# and that engine is skipped, as .ci/vllm_cpu.sh does for vLLM; a test failure fails CI.
# An entry's fourth field is the Python its venv needs, found on PATH or in pyenv: NeMo Gym needs 3.12+, so its venv
# sees none of the main environment's packages and installs its own (pytest, and a CUDA torch: PyPI has no CPU build).
# Its fifth, the engine releases it tests (pip's syntax; part of the stamp): an engine tested at two releases whose APIs
# differ has an entry per release, the second named <engine>@<label>, each its own venv (verifiers 0.4 and 0.3).
set -uo pipefail
cd "$(dirname "$0")/.."
VENVS=${ADAPTER_VENVS:-/work/venvs}
# engine[@label] : the module its tests need : the extra that installs it [: its Python version [: its releases]]
ENGINES=("verifiers:verifiers:verifiers::verifiers>=0.4,<0.5" "verifiers@0.3:verifiers:verifiers::verifiers>=0.3,<0.4"
  "skyrl:skyrl_gym:skyrl" "gem:gem:gem" "openenv:openenv.core:openenv"
  "nemo_gym:nemo_gym:nemo-gym:3.12" "inspect:inspect_ai:inspect")
STAMP=$(sha256sum pyproject.toml | cut -d' ' -f1)
PIP=(pip install --quiet --disable-pip-version-check)

python_of() {  # python_of [<version>]: this Python, or one of that version (PATH, else pyenv's newest), else fails
  [ -z "${1:-}" ] && { echo python; return; }
  "python$1" -c '' 2>/dev/null && { echo "python$1"; return; }
  ls -d "${PYENV_ROOT:-$HOME/.pyenv}/versions/$1".*/bin/"python$1" 2>/dev/null | sort -V | tail -1 | grep .
}

prepare() {  # prepare <venv> <module> <extra> [<python version> [<releases>]]: 0 when the venv is ready
  local venv="$VENVS/$1" stamp="$STAMP${5:+ $5}"
  if [ -x "$venv/bin/python" ] && [ "$(cat "$venv/.score-env-stamp" 2>/dev/null)" = "$stamp" ] \
    && "$venv/bin/python" -c "import $2" 2>/dev/null; then
    return 0
  fi
  mkdir -p "$VENVS"
  local python
  python=$(python_of "${4:-}") || { echo "adapters: no Python ${4:-} here (PATH or pyenv)"; return 1; }
  { [ -x "$venv/bin/python" ] || "$python" -m venv --system-site-packages "$venv"; } \
    && "$venv/bin/python" -m "${PIP[@]}" -e ".[$3]" ${4:+pytest} ${5:+"$5"} 2>&1 \
      | sed '/is ignored: it is neither a file nor a directory/d' \
    && "$venv/bin/python" -c "import $2" \
    && echo "$stamp" > "$venv/.score-env-stamp"
}

failed=0
for entry in "${ENGINES[@]}"; do
  IFS=: read -r name module extra python releases <<< "$entry"
  engine=${name%@*}
  if ! prepare "$name" "$module" "$extra" "$python" "$releases"; then
    echo "adapters: $extra could not be installed here: the $name adapter's tests are skipped this run"
    continue
  fi
  echo "adapters: $name ($("$VENVS/$name/bin/python" -m pip list 2>/dev/null | grep -iE "^(verifiers|skyrl-gym|gem-llm|openenv-core|nemo-gym|inspect[-_]ai) "))"
  PYTHONPATH="$(pwd)" SCORE_ENV_REQUIRE_ENGINES=$engine "$VENVS/$name/bin/python" -m pytest -p no:cacheprovider -q -rs tests/adapters \
    || failed=1
done
exit $failed
