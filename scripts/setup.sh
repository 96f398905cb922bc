#!/usr/bin/env bash
# Sets up PolicyQA in ./.venv on a fresh machine with only Python ≥ 3.11, pip and apt.
#   bash scripts/setup.sh          the product
#   bash scripts/setup.sh --test   the product, the test tools and Debian's Chromium for UI tests
set -euo pipefail
cd "$(dirname "$0")/.."

with_tests=false
[[ "${1:-}" == "--test" ]] && with_tests=true

python_bin="${PYTHON:-python3}"
if [[ ! -x .venv/bin/python ]]; then
  "$python_bin" -m venv .venv
fi
# torch first, pinned: the CPU build; an unpinned torch pulls several GB of CUDA packages.
.venv/bin/pip install --quiet --disable-pip-version-check "torch==2.13.0"
if $with_tests; then
  # The scale extra too, so the Milvus Lite and Ray tests run rather than skip (about 610 MB).
  .venv/bin/pip install --quiet --disable-pip-version-check -e ".[test,scale]"
  # Debian's Chromium for the browser tests; a TrueType CJK font for the PDFs tests/test_formats.py writes.
  debs=()
  command -v chromium >/dev/null 2>&1 || debs+=(chromium)
  [[ -f /usr/share/fonts/truetype/wqy/wqy-zenhei.ttc ]] || debs+=(fonts-wqy-zenhei)
  if (( ${#debs[@]} )); then
    if [[ $(id -u) -eq 0 ]]; then apt_get="apt-get"; else apt_get="sudo apt-get"; fi
    $apt_get update -qq
    DEBIAN_FRONTEND=noninteractive $apt_get install -y -qq "${debs[@]}" >/dev/null
  fi
else
  .venv/bin/pip install --quiet --disable-pip-version-check -e .
fi
echo "PolicyQA is set up in $(pwd)/.venv"
