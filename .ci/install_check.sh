#!/usr/bin/env bash
# A regular (not editable) install works from a user's own project, whose top-level envs/ and configs/ packages
# must neither shadow ours nor be shadowed (issue 10): `score-env envs` lists every env and the quick benchmark
# runs with its preset found by name.
#
# The venv sees the system site-packages for the dependencies (torch, transformers: already installed), but
# score-env itself is installed into it from a wheel; the script checks that the venv's copy is the one imported.
set -euo pipefail
cd "$(dirname "$0")/.."
venv=${INSTALL_CHECK_VENV:-/tmp/score-env-install-check}
project=$(mktemp -d)
trap 'rm -rf "$project"' EXIT

python -m venv --system-site-packages "$venv"
"$venv/bin/pip" install --quiet --disable-pip-version-check --no-deps --force-reinstall .

mkdir -p "$project/envs" "$project/configs"
echo 'raise ImportError("the user project'"'"'s own envs package was imported by score-env")' >"$project/envs/__init__.py"
echo 'MINE = True' >"$project/configs/__init__.py"
echo 'updates: 999' >"$project/configs/benchmark_quick.yaml"
cd "$project"

where=$("$venv/bin/python" -c "import score_env; print(score_env.__file__)")
case "$where" in
  "$venv"/*) ;;
  *) echo "install_check: score_env imported from $where, not from the venv" >&2; exit 1 ;;
esac

listed=$("$venv/bin/score-env" envs)
for env in score/Arithmetic-v0 score/MATH-v0 score/HumanEval-v0 score/MBPP-v0; do
  grep -q "$env" <<<"$listed" || { echo "install_check: score-env envs does not list $env" >&2; exit 1; }
done
"$venv/bin/score-env" benchmark config=benchmark_quick report_dir="$project/report" >/dev/null
test -s "$project/report/results.md"
grep -q '| 2 |' "$project/report/results.md"  # 2 updates: the shipped preset, not the project's configs/ file
echo "install_check: a wheel install runs from a project with its own envs/ and configs/ packages"
