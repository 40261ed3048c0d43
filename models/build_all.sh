#!/usr/bin/env bash
# Rebuild every model package (random init, ONNX, manifest, goldens, examples).
# Uses Debian's python (torch 1.13, onnx 1.12); the pyenv python3 on PATH has no torch.
# Then checks the goldens with onnxruntime-node if node_modules is installed.
set -euo pipefail
cd "$(dirname "$0")"
PY=${PYTHON:-/usr/bin/python3}
for build in */build.py; do
  pkg=${build%/build.py}
  echo "== $pkg"
  # a trained package's build.py exports random weights: `npm run train -- <name>` rebuilds it
  if [ -f "$pkg/train.json" ]; then echo "trained: skipped (npm run train -- $pkg)"; continue; fi
  "$PY" "$build"
done
echo "== tokenizer_cases.json"
"$PY" -m armature_models.tokenizer
echo "== tests/policy/fixtures/pixel_input.onnx"
"$PY" -m armature_models.pixel_fixture
if [ -d ../node_modules/onnxruntime-node ]; then
  node verify_goldens.mjs
fi
