#!/usr/bin/python3
"""Writes safetensors fixtures for dev.sisma.engine.io tests from PyTorch tensors.

The format is written by hand (safetensors_min.py), laid out as the reference writer does.

Run by hand from the repository root (outputs are committed):
    /usr/bin/python3 bundles/dev.sisma.engine/src/test/python/make_safetensors_fixtures.py
"""
import os

import torch

from safetensors_min import save_file

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "resources", "dev", "sisma", "engine", "io")


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
