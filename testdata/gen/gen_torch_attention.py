"""PyTorch attention models (ViT, nn.TransformerEncoder, nn.MultiheadAttention, scaled_dot_product_attention).

Writes corpus cases OUT/torch/attn_<case>/ (read by package corpus), each with:

  model.pt2             torch.export.save(torch.export.export(model, inputs))     (default ATen)
  model_decomposed.pt2  the same program after ep.run_decompositions()             (core ATen)
  model_full.pth        torch.save(model): library classes only (the forward is library code)
  state_dict.pth        torch.save(model.state_dict()), with arch.yaml (the --arch file) where --arch
                        can express the model
  expected.npz          inputs (batch 2, seeded) and outputs: the eager model's results
  case.json             the formats above

Cases:
  vit            torchvision VisionTransformer, vit_b_16-shaped but tiny (image 16, patch 4, 2 layers,
                 2 heads, hidden 16, mlp 32, 10 classes)
  encoder        nn.TransformerEncoder, 2 layers, d_model 16, 2 heads, relu, post-norm, batch_first,
                 final LayerNorm: float features [2, 6, 16] in
  encoder_nf     nn.TransformerEncoder, 2 layers, gelu, norm_first, batch_first=False, no final norm
  mha            nn.MultiheadAttention(16, 2, kdim=12, vdim=10, batch_first=True): query [2, 4, 16],
                 key and value [2, 6, *] in; the output and the head-averaged weights out
  mha_seq_first  nn.MultiheadAttention(16, 4, bias=False), batch_first=False: [5, 2, 16] inputs (sequence first)
  masked_fill    minGPT's CausalSelfAttention: matmul, masked_fill(-inf) of a sliced tril buffer, softmax
                 (.pt2 only)
  sdpa_masks     F.scaled_dot_product_attention with a float mask input holding -inf (one query
                 row fully masked), a constant boolean mask and is_causal (.pt2 only)

Weights make every layer matter: seeded; Linear and attention projections 1/sqrt(fan_in) normal
(query/key projections doubled so the softmax is not near uniform), every bias and LayerNorm
affine term random, class token and position embedding random. Both .pt2 files are loaded back with
torch.export.load and must reproduce the eager output within 1e-5 of its range.

Usage (from testdata/gen):
  PYTHONHASHSEED=0 CUDA_VISIBLE_DEVICES= /tmp/edgeval-gen/bin/python gen_torch_attention.py ../corpus [--only=vit,mha]
"""

import argparse
import hashlib
import os
import re
import sys
import warnings
import zipfile

os.environ.setdefault("PYTHONHASHSEED", "0")
warnings.filterwarnings("ignore")

import numpy as np  # noqa: E402
import torch  # noqa: E402
import torch.nn as nn  # noqa: E402
import torch.nn.functional as F  # noqa: E402
import torchvision  # noqa: E402
from torchvision.models import vision_transformer as vt  # noqa: E402

from common import case_dir, normalize_zip, rng_for, seed_of, write_json, write_npz  # noqa: E402

torch.set_num_threads(1)


def _normal(rng, shape, std):
    return torch.from_numpy(rng.normal(0, std, tuple(shape)).astype(np.float32))


def prepare(model, rng):
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, nn.Linear):
                m.weight.copy_(_normal(rng, m.weight.shape, 1 / np.sqrt(m.in_features)))
            if isinstance(m, nn.MultiheadAttention):
                for name in ("in_proj_weight", "q_proj_weight", "k_proj_weight", "v_proj_weight"):
                    w = getattr(m, name)
                    if w is not None:
                        w.copy_(_normal(rng, w.shape, 1 / np.sqrt(w.shape[1])))
                        if name != "v_proj_weight":
                            # sharper attention: double the query and key rows
                            rows = 2 * m.embed_dim if name == "in_proj_weight" else m.embed_dim
                            w[:rows] *= 2
            if isinstance(m, nn.LayerNorm) and m.weight is not None:
                m.weight.copy_(torch.from_numpy(rng.uniform(0.6, 1.4, tuple(m.weight.shape)).astype(np.float32)))
            for name, p in m.named_parameters(recurse=False):
                if "bias" in name and p is not None:
                    p.copy_(_normal(rng, p.shape, 0.2))
            if isinstance(m, vt.VisionTransformer):
                m.class_token.copy_(_normal(rng, m.class_token.shape, 0.5))
                m.encoder.pos_embedding.copy_(_normal(rng, m.encoder.pos_embedding.shape, 0.5))
    return model.eval()


class SDPAMasks(nn.Module):
    """Three attentions over projected features: a float mask input (may hold -inf), a constant bool mask, is_causal."""

    def __init__(self):
        super().__init__()
        self.proj = nn.Linear(8, 3 * 8)
        keep = torch.ones(5, 5, dtype=torch.bool)
        keep[1, 3:] = False
        keep[4, 0] = False
        self.register_buffer("keep", keep)

    def forward(self, x, mask):
        q, k, v = self.proj(x).view(x.shape[0], 5, 3, 2, 4).permute(2, 0, 3, 1, 4)
        a = F.scaled_dot_product_attention(q, k, v, attn_mask=mask)
        b = F.scaled_dot_product_attention(q, k, v, attn_mask=self.keep, scale=0.3)
        c = F.scaled_dot_product_attention(q, k, v, is_causal=True)
        return (a + b * c).transpose(1, 2).reshape(x.shape[0], 5, 8)


class CausalSelfAttention(nn.Module):
    """minGPT's hand-written attention: matmul, masked_fill(-inf) from a tril buffer sliced to the
    sequence (block size 8, sequence 6), softmax, matmul; and a finite masked_fill of the output."""

    def __init__(self, d=16, h=2, block=8):
        super().__init__()
        self.c_attn = nn.Linear(d, 3 * d)
        self.c_proj = nn.Linear(d, d)
        self.h = h
        self.register_buffer("bias", torch.tril(torch.ones(block, block)).view(1, 1, block, block))
        drop = torch.zeros(1, block, 1, dtype=torch.bool)
        drop[0, 2, 0] = True
        self.register_buffer("drop", drop)

    def forward(self, x):
        B, T, C = x.size()
        q, k, v = self.c_attn(x).split(C, dim=2)
        k = k.view(B, T, self.h, C // self.h).transpose(1, 2)
        q = q.view(B, T, self.h, C // self.h).transpose(1, 2)
        v = v.view(B, T, self.h, C // self.h).transpose(1, 2)
        att = (q @ k.transpose(-2, -1)) * (1.0 / np.sqrt(k.size(-1)))
        att = att.masked_fill(self.bias[:, :, :T, :T] == 0, float("-inf"))
        att = F.softmax(att, dim=-1)
        y = (att @ v).transpose(1, 2).contiguous().view(B, T, C)
        return self.c_proj(y).masked_fill(self.drop[:, :T], -0.5)


def encoder(norm_first, activation, batch_first, final_norm):
    layer = nn.TransformerEncoderLayer(16, 2, 32, dropout=0.1, activation=activation, batch_first=batch_first,
                                       norm_first=norm_first)
    return nn.TransformerEncoder(layer, 2, norm=nn.LayerNorm(16) if final_norm else None, enable_nested_tensor=False)


def vit():
    return vt.VisionTransformer(image_size=16, patch_size=4, num_layers=2, num_heads=2, hidden_dim=16, mlp_dim=32,
                                num_classes=10)


def sdpa_inputs(rng):
    x = rng.uniform(-1, 1, (2, 5, 8)).astype(np.float32)
    mask = rng.normal(0, 1, (2, 1, 5, 5)).astype(np.float32)
    mask[0, 0, 2, :] = -np.inf      # a fully masked query row: torch gives zeros
    mask[1, 0, 0, 1:3] = -np.inf
    return [("x", x), ("mask", mask)]


# name -> the layers each case covers (corpus.TestCorpusCoversTheIssues counts them)
LAYERS = {
    "vit": ["VisionTransformer", "MultiheadAttention", "Conv2d", "LayerNorm", "Linear", "GELU", "Dropout"],
    "encoder": ["TransformerEncoder", "TransformerEncoderLayer", "MultiheadAttention", "LayerNorm", "Linear", "ReLU",
                "Dropout"],
    "encoder_nf": ["TransformerEncoder", "TransformerEncoderLayer", "MultiheadAttention", "LayerNorm", "Linear", "GELU",
                   "Dropout"],
    "mha": ["MultiheadAttention", "Linear"],
    "mha_seq_first": ["MultiheadAttention", "Linear"],
    "sdpa_masks": ["scaled_dot_product_attention", "Linear"],
    "masked_fill": ["masked_fill", "matmul", "Softmax", "Linear"],
}

# name -> the --arch file's layers for state_dict.pth (None: --arch cannot express the model)
ARCH = {
    "vit": ["{op: VisionTransformer, num_heads: 2}"],
    "encoder": ["{op: TransformerEncoder, nhead: 2, batch_first: true}"],
    "encoder_nf": ["{op: TransformerEncoder, nhead: 2, activation: gelu, norm_first: true}"],
    # need_weights: an --arch step has one output; the model returns the weights too.
    "mha": None,
    "mha_seq_first": None,
    "sdpa_masks": None,
    "masked_fill": None,
}


def write_arch(path, ins, layers):
    with open(path, "w") as f:
        f.write("format: edgeval-torch-arch/1\ninputs:\n")
        for n, a in ins:
            f.write(f"  - {{name: {n}, shape: {list(a.shape)}}}\n")
        f.write("layers:\n")
        for l in layers:
            f.write(f"  - {l}\n")


# name -> (builder, inputs(rng), output names, what it is, full pickle?)
CASES = {
    "vit": (vit, lambda rng: [("input", rng.uniform(-1, 1, (2, 3, 16, 16)).astype(np.float32))], ["output"],
            "torchvision VisionTransformer(image_size=16, patch_size=4, num_layers=2, num_heads=2, hidden_dim=16, mlp_dim=32, num_classes=10)", True),
    "encoder": (lambda: encoder(False, "relu", True, True),
                lambda rng: [("input", rng.uniform(-1, 1, (2, 6, 16)).astype(np.float32))], ["output"],
                "nn.TransformerEncoder(TransformerEncoderLayer(16, 2, 32, relu, batch_first), 2, norm=LayerNorm(16))", True),
    "encoder_nf": (lambda: encoder(True, "gelu", False, False),
                   lambda rng: [("input", rng.uniform(-1, 1, (6, 2, 16)).astype(np.float32))], ["output"],
                   "nn.TransformerEncoder(TransformerEncoderLayer(16, 2, 32, gelu, norm_first, batch_first=False), 2)", True),
    "mha": (lambda: nn.MultiheadAttention(16, 2, kdim=12, vdim=10, batch_first=True),
            lambda rng: [("query", rng.uniform(-1, 1, (2, 4, 16)).astype(np.float32)),
                         ("key", rng.uniform(-1, 1, (2, 6, 12)).astype(np.float32)),
                         ("value", rng.uniform(-1, 1, (2, 6, 10)).astype(np.float32))], ["output", "weights"],
            "nn.MultiheadAttention(16, 2, kdim=12, vdim=10, batch_first=True), need_weights=True", True),
    "mha_seq_first": (lambda: nn.MultiheadAttention(16, 4, bias=False),
                      lambda rng: [(n, rng.uniform(-1, 1, (5, 2, 16)).astype(np.float32)) for n in ("query", "key", "value")],
                      ["output", "weights"], "nn.MultiheadAttention(16, 4, bias=False), sequence-first [5, 2, 16] inputs, need_weights=True",
                      True),
    "masked_fill": (CausalSelfAttention, lambda rng: [("input", rng.uniform(-1, 1, (2, 6, 16)).astype(np.float32))],
                    ["output"], "minGPT CausalSelfAttention(16, 2 heads, block 8) on 6 tokens: matmul, masked_fill(-inf) "
                    "of a sliced tril buffer, softmax; a finite masked_fill of the output", False),
    "sdpa_masks": (SDPAMasks, sdpa_inputs, ["output"],
                   "F.scaled_dot_product_attention: float mask input with -inf (a fully masked row), constant bool mask with scale, is_causal", False),
}


def deterministic_pt2(path):
    """Rewrites a .pt2 so that a second run gives the same bytes: fixed zip timestamps, the
    serialization id derived from the program, and the Python object ids (graph_id) that
    run_decompositions() leaves in the nodes' from_node metadata set to 0."""
    def strip(data):
        return re.sub(rb'(\\"graph_id\\": )\d+', rb"\g<1>0", data)

    with zipfile.ZipFile(path) as z:
        prog = [strip(z.read(n)) for n in z.namelist() if n.endswith(".json") and "/models/" in n]
    digest = str(int.from_bytes(hashlib.sha256(b"".join(prog)).digest()[:16], "little")).encode()

    def rewrite(name, data):
        if name.endswith("/.data/serialization_id"):
            return digest
        if name.endswith(".json") and "/models/" in name:
            return strip(data)
        return data

    normalize_zip(path, rewrite)


def flat(y):
    if isinstance(y, (tuple, list)):
        return [t.numpy().astype(np.float32) for t in y]
    return [y.numpy().astype(np.float32)]


def rel_err(a, b):
    rng = float(np.nanmax(b) - np.nanmin(b)) or 1.0
    return float(np.nanmax(np.abs(a - b))) / rng


def gen_case(root, name):
    make, inputs, out_names, config, full = CASES[name]
    case = "attn_" + name
    torch.manual_seed(seed_of("torch/" + case))
    rng = rng_for("torch/" + case)
    model = prepare(make(), rng)
    ins = inputs(rng)
    tins = tuple(torch.from_numpy(a) for _, a in ins)
    with torch.no_grad():
        ys = flat(model(*tins))
    for y in ys:
        assert np.isfinite(y).all(), f"{case}: non-finite output"
    d = case_dir(root, "torch", case)
    rec = {"name": case, "framework": "torch", "layers": LAYERS[name], "config": config,
           "inputs": [{"name": n, "shape": list(a.shape), "dtype": "float32"} for n, a in ins],
           "outputs": [{"name": n, "shape": list(y.shape)} for n, y in zip(out_names, ys)],
           "models": [], "tflite": [], "skipped": {},
           "versions": {"torch": torch.__version__, "torchvision": torchvision.__version__}}
    arrays = dict(ins)
    arrays.update(zip(out_names, ys))
    write_npz(os.path.join(d, "expected.npz"), arrays)
    ep = torch.export.export(model, tins)
    for fmt, fn, prog in [("torch-export-pt2", "model.pt2", ep),
                          ("torch-export-pt2-decomposed", "model_decomposed.pt2", ep.run_decompositions())]:
        p = os.path.join(d, fn)
        torch.export.save(prog, p)
        deterministic_pt2(p)
        with torch.no_grad():
            back = flat(torch.export.load(p).module()(*tins))
        e = max(rel_err(b, y) for b, y in zip(back, ys))
        if e > 1e-5:
            raise SystemExit(f"{case}/{fn}: torch.export.load output differs from eager by {e:.2g} of range")
        rec.setdefault("export_drift", {})[fn] = e
        rec["models"].append({"format": fmt, "file": fn, "expected": "expected.npz"})
    if full:
        torch.save(model, os.path.join(d, "model_full.pth"))
        rec["models"].append({"format": "torch-full-pth", "file": "model_full.pth", "expected": "expected.npz"})
    if ARCH[name]:
        torch.save(model.state_dict(), os.path.join(d, "state_dict.pth"))
        write_arch(os.path.join(d, "arch.yaml"), ins, ARCH[name])
        rec["arch"] = "arch.yaml"
        rec["models"].append({"format": "torch-state-dict", "file": "state_dict.pth", "expected": "expected.npz",
                              "needs_arch": True})
    write_json(os.path.join(d, "case.json"), rec)
    mb = sum(os.path.getsize(os.path.join(d, f)) for f in os.listdir(d)) / 1e6
    print(f"torch/{case}: out range {[float(y.max() - y.min()) for y in ys]}, {mb:.2f} MB", flush=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("out")
    ap.add_argument("--only", default="")
    a = ap.parse_args()
    only = set(filter(None, a.only.split(",")))
    for name in CASES:
        if not only or name in only:
            gen_case(a.out, name)


if __name__ == "__main__":
    sys.exit(main())
