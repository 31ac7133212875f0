#!/usr/bin/python3
"""Writes the autoencoder parity goldens for the Java tests (src/test/resources/golden, committed).

Run by hand from the repository root:
    /usr/bin/python3 bundles/dev.sisma.autoencoder/src/test/python/make_golden.py

Every reference is float64 math on exactly the stored weights (float32, bfloat16 or the shipped
float16) and inputs, stored rounded to float32. Deterministic: the same torch build writes
byte-identical files. Layout:

- taef2_random_encoder.safetensors / taef2_random_decoder.safetensors: a small TAEF2 (width 8,
  6 latent channels), PyTorch's default init with every parameter perturbed, F32, the real
  weights' names.
- sdvae_small.safetensors: a small AutoencoderKL (channels 16, 32; 1 ResNet per down block;
  4 latent channels; GroupNorm 8 groups), perturbed, stored as BF16 (so the Java side loads a
  BF16 file PyTorch wrote); metadata norm_num_groups and scaling_factor.
- io.safetensors:
  - taef2.random.image [2,3,32,48] (0..1), .latent = encoder(image) [2,6,4,6],
    .z [2,6,4,6] (random), .decoded = decoder(z) [2,3,32,48];
  - taef2.real.image [1,3,64,96] (a smooth synthetic picture, 0..1), .latent [1,32,8,12] from the
    shipped weights, .decoded = decoder(latent);
  - sdvae.image [2,3,16,24] ([-1, 1]), .latent = 0.18215 * posterior mean [2,4,8,12],
    .z [2,4,8,12] (random, scaled), .decoded = decode(z) [2,3,16,24].
- sdvae_full_names.json: every parameter name and shape of the full sd-vae-ft-mse configuration
  (channels 128, 256, 512, 512; 2 ResNets per down block), for a layout test without its 335 MB.
"""
import json
import math
import os
import sys

import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "..", "..", "..", "dev.sisma.engine", "src", "test", "python"))

from autoencoder_ref import AutoencoderKL, taef2_decoder, taef2_encoder  # noqa: E402
from safetensors_min import load_file, save_file  # noqa: E402

OUT = os.path.join(HERE, "..", "resources", "golden")
WEIGHTS = os.path.join(HERE, "..", "..", "main", "resources", "dev", "sisma", "autoencoder", "taef2")


def perturb_(model, seed):
    """Seeded noise on every parameter, so GroupNorm affine and biases are not the trivial 1 and 0."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for _, p in sorted(model.named_parameters()):
            std = 0.5 / math.sqrt(p[0].numel()) if p.dim() >= 2 else 0.2
            p.add_(torch.randn(p.shape, generator=g) * std)


def state(module, dtype=torch.float32):
    return {k: v.detach().to(dtype).contiguous() for k, v in module.state_dict().items()}


def smooth_picture(h, w):
    """A face-sized smooth test picture in 0..1: gradients and a few sinusoids per channel."""
    y = torch.linspace(0, 1, h, dtype=torch.float64)[:, None]
    x = torch.linspace(0, 1, w, dtype=torch.float64)[None, :]
    r = 0.5 + 0.3 * torch.sin(6 * x + 2 * y) + 0.15 * torch.cos(13 * y)
    g = 0.4 + 0.25 * torch.cos(5 * x * y + 1) + 0.2 * x
    b = 0.3 + 0.2 * torch.sin(9 * y - 4 * x) + 0.3 * ((x - 0.5) ** 2 + (y - 0.4) ** 2 < 0.08)
    return torch.stack([r, g, b]).clamp(0, 1)[None].float()


def main():
    os.makedirs(OUT, exist_ok=True)
    torch.manual_seed(0)
    io = {}

    # TAEF2, small and random
    enc, dec = taef2_encoder(width=8, latent=6), taef2_decoder(width=8, latent=6)
    perturb_(enc, 1)
    perturb_(dec, 2)
    save_file(state(enc), os.path.join(OUT, "taef2_random_encoder.safetensors"))
    save_file(state(dec), os.path.join(OUT, "taef2_random_decoder.safetensors"))
    g = torch.Generator().manual_seed(3)
    image = torch.rand(2, 3, 32, 48, generator=g)
    z = torch.randn(2, 6, 4, 6, generator=g) * 1.5
    with torch.no_grad():
        io["taef2.random.image"] = image
        io["taef2.random.latent"] = enc.double()(image.double()).float()
        io["taef2.random.z"] = z
        io["taef2.random.decoded"] = dec.double()(z.double()).float()

    # TAEF2, the shipped weights (float16 values, widened exactly)
    enc, dec = taef2_encoder(), taef2_decoder()
    enc.load_state_dict({k: v.double() for k, v in load_file(os.path.join(WEIGHTS, "taef2_encoder.safetensors"))[0].items()})
    dec.load_state_dict({k: v.double() for k, v in load_file(os.path.join(WEIGHTS, "taef2_decoder.safetensors"))[0].items()})
    image = smooth_picture(64, 96)
    with torch.no_grad():
        latent = enc.double()(image.double())
        io["taef2.real.image"] = image
        io["taef2.real.latent"] = latent.float()
        io["taef2.real.decoded"] = dec.double()(latent.float().double()).float()

    # AutoencoderKL, small, random, stored as bfloat16
    vae = AutoencoderKL(channels=(16, 32), layers=1, latent=4, groups=8)
    perturb_(vae, 4)
    weights = state(vae, torch.bfloat16)
    save_file(weights, os.path.join(OUT, "sdvae_small.safetensors"),
              metadata={"norm_num_groups": "8", "scaling_factor": "0.18215",
                        "source": "make_golden.py: random AutoencoderKL (diffusers names), bfloat16"})
    vae.load_state_dict({k: v.double() for k, v in weights.items()})
    vae = vae.double()
    g = torch.Generator().manual_seed(5)
    image = torch.rand(2, 3, 16, 24, generator=g) * 2 - 1
    z = torch.randn(2, 4, 8, 12, generator=g) * 0.18215 * 2
    with torch.no_grad():
        io["sdvae.image"] = image
        io["sdvae.latent"] = vae.encode(image.double()).float()
        io["sdvae.z"] = z
        io["sdvae.decoded"] = vae.decode(z.double()).float()

    save_file(io, os.path.join(OUT, "io.safetensors"), metadata={"source": "make_golden.py"})
    full = {k: list(v.shape) for k, v in AutoencoderKL().state_dict().items()}
    with open(os.path.join(OUT, "sdvae_full_names.json"), "w") as f:
        json.dump(full, f, indent=0, sort_keys=True)
        f.write("\n")
    for k, v in io.items():
        print(f"{k:24s} {list(v.shape)} max |v| {v.abs().max().item():.4g}")
    print("wrote", os.path.normpath(OUT))


if __name__ == "__main__":
    main()
