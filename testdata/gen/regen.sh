#!/usr/bin/env bash
# regen.sh: regenerate testdata/corpus with the real frameworks, from scratch.
#
#   python3.11 -m venv /tmp/edgeval-gen
#   /tmp/edgeval-gen/bin/pip install -r testdata/gen/requirements.txt
#   python3.11 -m venv /tmp/edgeval-lt      # litert-torch needs its own venv
#   /tmp/edgeval-lt/bin/pip install -r testdata/gen/requirements-litert-torch.txt
#   bash testdata/gen/regen.sh            # VENV=, LT_VENV= to use other venvs
#
# Every case is seeded and every archive is written with fixed timestamps, so a
# second run gives byte-identical files (check: (cd testdata/corpus && find . -type f
# | sort | xargs sha256sum) before and after). testdata/corpus/KNOWN_FAILURES is
# kept: it is maintained by hand from the Go test's output, not generated.
# Takes about 20 minutes on 2 loaded cores (TensorFlow's converter dominates).
#
# Only some Keras cases (the same files the full run writes for them; no other case
# is touched), then the README's tables:
#   cd testdata/gen && PYTHONHASHSEED=0 CUDA_VISIBLE_DEVICES= TF_ENABLE_ONEDNN_OPTS=0 \
#     /tmp/edgeval-gen/bin/python gen_keras.py ../corpus --only=NAME1,NAME2
#   /tmp/edgeval-gen/bin/python gen_readme.py ../corpus README.md
# The real labelled digits (testdata/digits) and the image references of package golden
# (golden/testdata/images) are made apart, with scikit-learn in the venv (pip install scikit-learn):
#   cd testdata/gen && TF_USE_LEGACY_KERAS=0 /tmp/edgeval-gen/bin/python gen_digits.py ../digits
#   /tmp/edgeval-gen/bin/python gen_images.py ../../golden/testdata/images
# converter/torch's recurrent unit files (root nn.RNN/nn.LSTM pickles, .pt2 refusals, the op table of
# nn.LSTM/nn.GRU/nn.RNN under torch.export) are made apart too:
#   cd testdata/gen && /tmp/edgeval-gen/bin/python gen_torch_rnn_units.py ../../converter/torch/testdata
# The out-of-tree zoo of keras.applications models (~1.4 GB, read by the Go test
# when EDGEVAL_ZOO is set) is not made here: /tmp/edgeval-gen/bin/python zoo.py [OUT]
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
VENV="${VENV:-/tmp/edgeval-gen}"
LT_VENV="${LT_VENV:-/tmp/edgeval-lt}"
py="$VENV/bin/python"
ltpy="$LT_VENV/bin/python"
out="${OUT:-$root/testdata/corpus}"  # OUT=DIR writes elsewhere (to compare two runs)
[ -x "$py" ] || { echo "regen.sh: no Python at $py; make the venv first (see the top of this script)" >&2; exit 2; }
[ -x "$ltpy" ] || { echo "regen.sh: no Python at $ltpy; make the litert-torch venv first (see the top of this script)" >&2; exit 2; }
mkdir -p "$out"
rm -rf "$out/keras" "$out/torch"
cd "$here"
export PYTHONHASHSEED=0 CUDA_VISIBLE_DEVICES="" TF_ENABLE_ONEDNN_OPTS=0
# The Keras cases run in two processes (each case is seeded on its own, so
# sharding does not change any file).
"$py" gen_keras.py "$out" --shard=0/2 &
k0=$!
"$py" gen_keras.py "$out" --shard=1/2
wait "$k0"
"$py" gen_torch.py "$out"
"$ltpy" gen_litert_torch.py "$out"
"$py" gen_torchvision.py "$out" --tier=small --refusals ../../converter/torch/testdata/torchvision   # tv_* (after litert-torch: no model_full.pth there)
"$py" gen_torch_attention.py "$out"            # attn_* (after litert-torch too)
"$py" gen_readme.py "$out" "$here/README.md"
du -sh "$out" >&2
