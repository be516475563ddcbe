"""Convert every PyTorch case of the corpus with litert-torch (the real PyTorch -> TFLite converter).

Runs after gen_torch.py, in the venv of requirements-litert-torch.txt. For each
OUT/torch/<case>/ it loads model_full.pth, converts it with litert_torch.convert
on the case's inputs (static batch, NCHW inputs as PyTorch takes them), writes
litert_torch.tflite and adds it to case.json's "tflite" list; a case that does
not convert gets the error under "skipped".

Usage: python gen_litert_torch.py OUT_DIR [CASE...]   (see regen.sh)
"""

import glob
import json
import os
import sys
import warnings

os.environ["CUDA_VISIBLE_DEVICES"] = ""
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
warnings.filterwarnings("ignore")

import numpy as np  # noqa: E402
import torch  # noqa: E402
import litert_torch  # noqa: E402
from importlib.metadata import version  # noqa: E402

from common import write_json  # noqa: E402
import torch_cases  # noqa: E402,F401  (GraphNet, for torch.load of the custom roots)


def main():
    root = sys.argv[1]
    only = set(sys.argv[2:])
    torch.set_num_threads(1)
    for cj in sorted(glob.glob(os.path.join(root, "torch", "*", "case.json"))):
        d = os.path.dirname(cj)
        with open(cj) as f:
            rec = json.load(f)
        if only and rec["name"] not in only:
            continue
        rec["tflite"] = [t for t in rec["tflite"] if t["file"] != "litert_torch.tflite"]
        rec["skipped"].pop("litert-torch", None)
        out = os.path.join(d, "litert_torch.tflite")
        try:
            model = torch.load(os.path.join(d, "model_full.pth"), weights_only=False).eval()
            npz = np.load(os.path.join(d, "expected.npz"))
            args = tuple(torch.from_numpy(npz[i["name"]]) for i in rec["inputs"])
            edge = litert_torch.convert(model, args)
            edge.export(out)
            rec["tflite"].append({"file": "litert_torch.tflite", "precision": "float32", "static_batch": True,
                                  "converter": f"litert-torch {version('litert-torch')}", "expected": "expected.npz"})
        except Exception as e:  # noqa: BLE001
            if os.path.exists(out):
                os.remove(out)
            msg = str(e).strip().splitlines()[0][:160] if str(e).strip() else ""
            rec["skipped"]["litert-torch"] = f"{type(e).__name__}: {msg}"
        rec.setdefault("versions", {})["litert-torch"] = version("litert-torch")
        write_json(cj, rec)
        print(f"torch/{rec['name']}: litert-torch {'ok' if 'litert-torch' not in rec['skipped'] else rec['skipped']['litert-torch']}", flush=True)


if __name__ == "__main__":
    main()
