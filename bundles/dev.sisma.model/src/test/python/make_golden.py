#!/usr/bin/python3
"""Writes the SISMA parity goldens (small config, seeded, perturbed weights) for the Java model tests.

Run by hand from the repository root (outputs are committed, under 2 MB):
    /usr/bin/python3 bundles/dev.sisma.model/src/test/python/make_golden.py [--attention]

Weights are made in float32 and stored as float32; every reference value is then computed in
float64 from exactly those float32 values (and float32 inputs) and stored rounded to float32, so
the goldens are the exact math of the stored weights, not PyTorch's float32 rounding.
See README.md for the file layout.
"""
import copy
import json
import os
import sys
from dataclasses import replace

import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "..", "..", "..", "dev.sisma.engine", "src", "test", "python"))

from safetensors_min import load_file, save_file  # noqa: E402
from sisma_ref import (SISMA, SismaConfig, count_params, fm_interpolate, fm_loss, fm_target,  # noqa: E402
                       one_hot_mask, sample_euler, sample_heun)

OUT = os.path.join(HERE, "..", "resources", "golden")

CONFIG = SismaConfig(input_size=16, in_channels=4, patch_size=2, hidden_size=32, depth=4, num_classes=19,
                     mask_size=32, d_state=16, expand=2, d_conv=4, dt_rank=0, num_heads=4)
ATTENTION_CONFIG = replace(CONFIG, arch="attention", hidden_size=16, depth=2, num_heads=2)
B = 2
T_VALUES = [0.3, 0.85]
INIT_SEED, PERTURB_SEED, INPUT_SEED = 0, 1, 2
EULER_STEPS, HEUN_STEPS = 3, 2


def perturb_(model, seed):
    """Adds seeded noise to EVERY parameter, so that the zero-initialised AdaLN and final layer do
    not make the output trivially zero: matrices get N(0, (0.5 / sqrt(fan_in))^2), vectors N(0, 0.2^2)."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, p in sorted(model.named_parameters()):
            if p.dim() >= 2:
                std = 0.5 / (p[0].numel() ** 0.5)
            else:
                std = 0.2
            p.add_(torch.randn(p.shape, generator=g) * std)


def blobby_class_map(g, n, size, classes):
    """Random regions (a 4x4 grid of classes, nearest-upsampled) with 10% of pixels re-drawn: every
    latent pixel's area average sees pure and mixed cells."""
    coarse = torch.randint(0, classes, (n, 4, 4), generator=g)
    m = coarse.repeat_interleave(size // 4, 1).repeat_interleave(size // 4, 2)
    noise = torch.randint(0, classes, (n, size, size), generator=g)
    flip = torch.rand(n, size, size, generator=g) < 0.1
    return torch.where(flip, noise, m)


def f32(d):
    return {k: v.detach().float().contiguous() for k, v in d.items()}


def make(cfg, suffix, with_grads=True, with_trace=True, with_sampling=True, write_inputs=True):
    torch.manual_seed(INIT_SEED)
    model = SISMA(cfg)
    perturb_(model, PERTURB_SEED)
    weights = {k: v.detach().clone() for k, v in model.state_dict().items()}
    model64 = copy.deepcopy(model).double()

    g = torch.Generator().manual_seed(INPUT_SEED)
    C, H, M = cfg.in_channels, cfg.input_size, cfg.mask_size
    inputs = {
        "x": torch.randn(B, C, H, H, generator=g),
        "t": torch.tensor(T_VALUES, dtype=torch.float32),
        "class_map": blobby_class_map(g, B, M, cfg.num_classes).float(),
        "x0": torch.randn(B, C, H, H, generator=g),
        "x1": torch.randn(B, C, H, H, generator=g),
        "sample_x0": torch.randn(B, C, H, H, generator=g),
    }
    inputs["mask"] = one_hot_mask(inputs["class_map"], cfg.num_classes)
    d = {k: v.double() for k, v in inputs.items()}

    outputs, trace = {}, {}
    with torch.no_grad():
        outputs["v"] = model64(d["x"], d["t"], d["mask"], trace=trace if with_trace else None)
    if with_trace:
        for k, v in trace.items():
            outputs["act." + k] = v
    model64.zero_grad()
    loss = fm_loss(model64, d["x0"], d["x1"], d["t"], d["mask"])
    outputs["loss.x_t"] = fm_interpolate(d["x0"], d["x1"], d["t"])
    outputs["loss.target"] = fm_target(d["x0"], d["x1"])
    outputs["loss"] = loss.detach().reshape(())
    if with_grads:
        loss.backward()
        for name, p in model64.named_parameters():
            outputs["grad." + name] = p.grad
    if with_sampling:
        outputs[f"euler{EULER_STEPS}.traj"] = sample_euler(model64, d["sample_x0"], d["mask"], EULER_STEPS)
        outputs[f"heun{HEUN_STEPS}.traj"] = sample_heun(model64, d["sample_x0"], d["mask"], HEUN_STEPS)

    meta = {"generator": "make_golden.py", "config": json.dumps(cfg.to_dict())}
    os.makedirs(OUT, exist_ok=True)
    save_file(f32(weights), os.path.join(OUT, f"weights{suffix}.safetensors"), meta)
    if write_inputs:
        save_file(f32(inputs), os.path.join(OUT, f"inputs{suffix}.safetensors"), meta)
    save_file(f32(outputs), os.path.join(OUT, f"outputs{suffix}.safetensors"), meta)
    config = dict(cfg.to_dict(), batch=B, t=T_VALUES, init_seed=INIT_SEED, perturb_seed=PERTURB_SEED,
                  input_seed=INPUT_SEED, euler_steps=EULER_STEPS, heun_steps=HEUN_STEPS,
                  parameters=count_params(cfg), reference_dtype="float64 math on float32 weights and inputs",
                  stored_dtype="F32")
    with open(os.path.join(OUT, f"config{suffix}.json"), "w") as f:
        json.dump(config, f, indent=2, sort_keys=False)
        f.write("\n")

    # Sanity: the stored weights reload to the same model; the goldens are not trivial.
    back, _ = load_file(os.path.join(OUT, f"weights{suffix}.safetensors"))
    m2 = SISMA(cfg)
    m2.load_state_dict(back)
    assert all(torch.equal(m2.state_dict()[k], weights[k]) for k in weights)
    v = outputs["v"]
    print(f"{cfg.arch}: |v| mean {v.abs().mean():.4f}, loss {loss.item():.6f}, "
          f"v float32-vs-float64 max rel err "
          f"{((model(inputs['x'], inputs['t'], inputs['mask']).double() - v).abs().max() / v.abs().max()):.2e}")
    if with_grads:
        zero = [k for k in outputs if k.startswith("grad.") and outputs[k].abs().max() == 0]
        assert not zero, f"zero gradients: {zero}"
    return outputs


def main():
    make(CONFIG, "")
    if "--attention" in sys.argv:
        # The attention baseline: forward and loss only, smaller (hidden 16, 2 heads) to keep the
        # committed files under 2 MB; same inputs.safetensors (same seeds, same shapes).
        make(ATTENTION_CONFIG, "_attention", with_grads=False, with_trace=False, with_sampling=False,
             write_inputs=False)
    total = sum(os.path.getsize(os.path.join(OUT, f)) for f in os.listdir(OUT))
    print(f"wrote {OUT}: {total / 1e6:.2f} MB")


if __name__ == "__main__":
    main()
