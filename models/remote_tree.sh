#!/usr/bin/env bash
# Narrow what a device call sends (tracked + untracked-not-ignored files, 64 MiB in all, packed data
# included) to the Python that remote training runs: the repo's ONNX packages and eval results alone
# are over 50 MB. `narrow` untracks everything in the index and ignores the rest in .git/info/exclude;
# `restore` puts the index back at HEAD and drops that line. Files on disk are never touched; commit
# nothing in between.
#
#   bash models/remote_tree.sh narrow; <device run with carry .gpu/...>; bash models/remote_tree.sh restore
set -euo pipefail
cd "$(dirname "$0")/.."
mark='# remote_tree.sh narrow: everything below is ignored until restore'
case ${1:-} in
  narrow)
    git diff --quiet --cached || { echo "staged changes: commit or unstage them first" >&2; exit 1; }
    git rm -r -q --cached .
    printf '%s\n/*\n' "$mark" >>.git/info/exclude
    git add -f models/train_remote.sh models/armature_models/*.py models/*/model.py models/*/train.py \
      models/*/build.py models/*/vocab.txt
    git ls-files -z | xargs -0 du -cb | tail -1 ;;
  restore)
    # drop the mark and the line after it
    awk -v m="$mark" '$0 == m {skip = 2} skip > 0 {skip--; next} {print}' .git/info/exclude >.git/info/exclude.tmp
    mv .git/info/exclude.tmp .git/info/exclude
    git reset -q ;;
  *) echo "usage: $0 narrow|restore" >&2; exit 2 ;;
esac
