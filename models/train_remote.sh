#!/usr/bin/env bash
# Train flow-small and diffusion-small side by side on an accelerator machine that has torch but
# neither Node nor the recorded datasets, from arrays packed by armature_models/transport.py:
#
#   here:  python3 models/armature_models/transport.py pack .cache/arrays/<id> .gpu/franka
#   there: bash models/train_remote.sh .gpu/franka <out> <seconds per model> [batch]
#   here:  python3 models/armature_models/transport.py ckpt-in <out>/<name> .cache/train/<name>/last.pt
#          then `train.py --steps <step>` (resumes the finished run and exports the package).
set -u
packed=$1 out=$2 budget=$3 batch=${4:-512}
# unpack under the source folder's name, so training.json names the same arrays as a local run
arrays=/tmp/arrays/$(python3 -c "import json,sys;print(json.load(open(sys.argv[1]))['transport']['source'])" "$packed/arrays.json")
here=$(cd "$(dirname "$0")" && pwd)
nvidia-smi -L || true
python3 "$here/armature_models/transport.py" unpack "$packed" "$arrays" || exit 1
for name in ${MODELS:-flow-small diffusion-small}; do
  PYTHONUNBUFFERED=1 python3 "$here/$name/train.py" --arrays "$arrays" --checkpoint "/tmp/ckpt/$name" \
    --steps 1000000 --batch "$batch" --time-budget "$budget" --device "${DEVICE:-cuda}" --no-export >"$out/$name.log" 2>&1 &
done
wait
for name in ${MODELS:-flow-small diffusion-small}; do
  tail -3 "$out/$name.log"
  python3 "$here/armature_models/transport.py" ckpt-out "/tmp/ckpt/$name/last.pt" "$out/$name"
done
