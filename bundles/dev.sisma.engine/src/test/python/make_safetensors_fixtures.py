#!/usr/bin/python3
"""Writes safetensors fixtures for dev.sisma.engine.io tests from PyTorch tensors.

Debian's python3-torch (1.13) has no `safetensors` package, so the format is written by hand,
the way the reference writer (safetensors 0.4, `serialize`) lays it out:
  * 8-byte little-endian header length, then compact JSON (separators ',' and ':'),
    `__metadata__` first, tensor keys sorted by name, padded with spaces to a multiple of 8;
  * data sorted by dtype alignment (largest first), then by name, packed without gaps.

Run by hand from the repository root (outputs are committed):
    /usr/bin/python3 bundles/dev.sisma.engine/src/test/python/make_safetensors_fixtures.py
"""
import json
import os
import struct

import torch

OUT = os.path.join(os.path.dirname(__file__), "..", "resources", "dev", "sisma", "engine", "io")

DTYPES = {torch.float32: ("F32", 4), torch.float16: ("F16", 2), torch.bfloat16: ("BF16", 2)}


def tensor_bytes(t):
    t = t.contiguous()
    if t.dtype == torch.bfloat16:  # numpy has no bfloat16: reinterpret the bits
        return t.view(torch.int16).numpy().tobytes()
    return t.numpy().tobytes()


def save_file(tensors, path, metadata=None):
    """Minimal safetensors writer (little-endian host assumed, as torch on x86/arm)."""
    order = sorted(tensors, key=lambda k: (-DTYPES[tensors[k].dtype][1], k))
    header, blobs, off = {}, [], 0
    for name in order:
        b = tensor_bytes(tensors[name])
        header[name] = {"dtype": DTYPES[tensors[name].dtype][0], "shape": list(tensors[name].shape),
                        "data_offsets": [off, off + len(b)]}
        blobs.append(b)
        off += len(b)
    full = {}
    if metadata:
        full["__metadata__"] = metadata
    full.update(sorted(header.items()))
    h = json.dumps(full, separators=(",", ":")).encode("utf-8")
    h += b" " * ((8 - len(h) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)))
        f.write(h)
        for b in blobs:
            f.write(b)


def main():
    os.makedirs(OUT, exist_ok=True)
    g = torch.Generator().manual_seed(1234)
    t = {}
    # Ramps: exactly representable in their dtype, so the Java test can compute them itself.
    t["f32.ramp"] = ((torch.arange(24, dtype=torch.float32) - 12) * 0.25).reshape(2, 3, 4)
    t["f16.ramp"] = ((torch.arange(15, dtype=torch.float32) - 7) * 0.5).reshape(5, 3).half()
    t["bf16.ramp"] = ((torch.arange(16, dtype=torch.float32) - 8) * 0.125).reshape(4, 4).bfloat16()
    t["f32.scalar"] = torch.tensor(3.5, dtype=torch.float32)
    t["f32.empty"] = torch.zeros(0, 3, dtype=torch.float32)
    t["bf16.empty"] = torch.zeros(2, 0, dtype=torch.bfloat16)
    # Random values and special values; expected.<name> holds PyTorch's own conversion to float32.
    t["f16.random"] = torch.randn(7, 5, generator=g).half()
    t["bf16.random"] = torch.randn(3, 11, generator=g).bfloat16()
    special = torch.tensor([float("inf"), float("-inf"), 0.0, -0.0, 65504.0, 2.0 ** -24, 1e-5, -2.5,
                            float("nan")], dtype=torch.float32)
    t["f16.special"] = special.half()
    t["bf16.special"] = torch.tensor([float("inf"), float("-inf"), 0.0, -0.0, 3.0e38, 1e-40, -2.5,
                                      float("nan")], dtype=torch.float32).bfloat16()
    for k in ["f16.random", "bf16.random", "f16.special", "bf16.special"]:
        t["expected." + k] = t[k].float()
    # Rounding of float32 -> F16/BF16 (round to nearest even), to check the Java writer.
    src = torch.randn(64, generator=g) * torch.logspace(-6, 6, 64)
    t["round.src"] = src
    t["round.f16"] = src.half()
    t["round.bf16"] = src.bfloat16()
    save_file(t, os.path.join(OUT, "torch_mixed.safetensors"),
              metadata={"format": "pt", "source": "make_safetensors_fixtures.py", "note": "\u00e9\u00e8 \"q\""})
    # A file with no metadata and one tensor.
    save_file({"w": torch.arange(6, dtype=torch.float32).reshape(2, 3)},
              os.path.join(OUT, "torch_plain.safetensors"))
    print("wrote", OUT)


if __name__ == "__main__":
    main()
