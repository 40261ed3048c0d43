#!/usr/bin/env bash
# Train policies side by side on an accelerator machine that has torch but neither Node nor the
# recorded datasets, from arrays packed by armature_models/transport.py:
#
#   here:  python3 models/armature_models/transport.py pack .cache/arrays/<id> .gpu/<data> [--stride 4]
#   there: MODELS="flow-base flow-small@data100" bash models/train_remote.sh .gpu/<data> <out> <seconds per model> [batch]
#   here:  python3 models/armature_models/transport.py ckpt-in <out>/<file> .cache/train/<run>/last.pt
#          then `train.py --checkpoint .cache/train/<run> --steps <step>` (resumes the finished run, exports).
#
# MODELS: package names, each optionally `@tag` (the same package's script on this data, checkpoint
# and results under `<package>@<tag>`, e.g. a data-scaling experiment beside the bundled weights);
# files come back as `<package>_<tag>.*` (the device tool brings back letters, digits, '.', '_', '-').
set -u
packed=$1 out=$2 budget=$3 batch=${4:-512}
runs=${MODELS:-flow-small diffusion-small}
# unpack under the source folder's name, so training.json names the same arrays as a local run
arrays=/tmp/arrays/$(python3 -c "import json,sys;print(json.load(open(sys.argv[1]))['transport']['source'])" "$packed/arrays.json")
here=$(cd "$(dirname "$0")" && pwd)
nvidia-smi -L || true
python3 "$here/armature_models/transport.py" unpack "$packed" "$arrays" || exit 1
for run in $runs; do
  PYTHONUNBUFFERED=1 python3 "$here/${run%%@*}/train.py" --arrays "$arrays" --checkpoint "/tmp/ckpt/$run" \
    --steps 1000000 --batch "$batch" --time-budget "$budget" --device "${DEVICE:-cuda}" --no-export >"$out/${run//@/_}.log" 2>&1 &
done
wait
for run in $runs; do
  tail -3 "$out/${run//@/_}.log"
  python3 "$here/armature_models/transport.py" ckpt-out "/tmp/ckpt/$run/last.pt" "$out/${run//@/_}"
done
