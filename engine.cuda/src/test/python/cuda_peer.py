#!/usr/bin/env python3
"""The PyTorch peer of the CUDA backend's benchmark (CudaBench), on the same GPU in the same run
(gpu-check.sh runs both and prints the ratios). PyTorch's own CUDA build, eager mode, CUDA events
after a warm-up, best of --reps:

  gemm      torch.mm of fp32 tensors at 4096^3 and at every distinct Linear shape of one sisma-L/2
            forward at 256 tokens (recorded by forward hooks, written to --shapes-out for CudaBench):
            fp32 (torch.backends.cuda.matmul.allow_tf32 = False, PyTorch's default), tf32
            (set_float32_matmul_precision("high")), bf16 ("medium": cuBLAS may use bf16 products
            with fp32 accumulation, as CudaBackend's bf16 mode does)
  model     the reference model (bundles/dev.sisma.model/src/test/python/sisma_ref.py, its
            vectorised scan selective_scan_vec as the speed peers use) sisma-L/2, 256 tokens,
            default init perturbed by make_golden.perturb_: one step at batch 1 and 16, 200 Euler
            steps for one image, peak memory (max_memory_allocated and max_memory_reserved over
            the weights) of batch-1 sampling; at fp32 and tf32

    /usr/bin/python3 engine.cuda/src/test/python/cuda_peer.py --shapes-out /tmp/shapes.txt > torch.json
    /usr/bin/python3 engine.cuda/src/test/python/cuda_peer.py --compare sisma.json torch.json

--compare prints the table of ratios (sisma / PyTorch speed: > 1 is sisma faster) from CudaBench's
and this script's JSON; it needs no GPU.
"""
import argparse
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
REF = os.path.abspath(os.path.join(HERE, "..", "..", "..", "..", "bundles", "dev.sisma.model", "src", "test", "python"))
sys.path.insert(0, REF)

import torch  # noqa: E402
import sisma_ref as R  # noqa: E402
from make_golden import perturb_  # noqa: E402

PRECISION = {"fp32": "highest", "tf32": "high", "bf16": "medium"}


def set_precision(name):
    torch.set_float32_matmul_precision(PRECISION[name])
    torch.backends.cuda.matmul.allow_tf32 = name != "fp32"


def best_ms(fn, reps, warmup=2):
    """Best of reps runs of fn, timed with CUDA events around each (after warmup runs)."""
    for _ in range(warmup):
        fn()
    torch.cuda.synchronize()
    best = float("inf")
    for _ in range(reps):
        start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        start.record()
        fn()
        end.record()
        end.synchronize()
        best = min(best, start.elapsed_time(end))
    return best


def linear_shapes(model, inputs):
    """(m, n, k) of every Linear and patch-embed GEMM of one forward, distinct, in first-seen order."""
    shapes = []

    def hook(mod, inp, out):
        if isinstance(mod, torch.nn.Linear):
            k, n = mod.in_features, mod.out_features
        else:
            k, n = mod.in_channels * mod.kernel_size[0] * mod.kernel_size[1], mod.out_channels
        s = (out.numel() // n, n, k)
        if s not in shapes:
            shapes.append(s)
    hs = [m.register_forward_hook(hook) for m in model.modules() if isinstance(m, (torch.nn.Linear, torch.nn.Conv2d))]
    with torch.no_grad():
        model(*inputs)
    for h in hs:
        h.remove()
    return shapes


def gemm(shapes, reps):
    out = {}
    for m, n, k in [(4096, 4096, 4096)] + shapes:
        a = torch.randn(m, k, device="cuda")
        b = torch.randn(k, n, device="cuda")
        row = {}
        for p in PRECISION:
            set_precision(p)
            ms = best_ms(lambda: torch.mm(a, b), reps)
            row["torch_" + p] = 2.0 * m * n * k / (ms / 1e3) / 1e9
        out[f"{m}x{n}x{k}"] = row
    set_precision("fp32")
    return out


def model_bench(model, cfg, reps):
    dev = "cuda"
    r = {}
    weights = sum(p.numel() * p.element_size() for p in model.parameters())
    r["weights_mib"] = weights / 2**20

    def inputs(batch):
        g = torch.Generator().manual_seed(2)
        x = torch.randn(batch, cfg.in_channels, cfg.input_size, cfg.input_size, generator=g).to(dev)
        mask = torch.rand(batch, cfg.num_classes, cfg.mask_size, cfg.mask_size, generator=g).to(dev)
        return x, torch.full((batch,), 0.5, device=dev), mask

    with torch.no_grad():
        for batch in (1, 16):
            x, t, mask = inputs(batch)
            r[f"step_b{batch}_ms"] = best_ms(lambda: model(x, t, mask), reps)
        r["images_per_s_b16_200_steps"] = 16 / (200 * r["step_b16_ms"] / 1e3)
        x, _, mask = inputs(1)
        torch.cuda.synchronize()
        torch.cuda.empty_cache()  # the batch-16 steps' cached blocks are no part of batch-1 sampling
        torch.cuda.reset_peak_memory_stats()
        base_alloc, base_reserved = torch.cuda.memory_allocated(), torch.cuda.memory_reserved()

        def euler200():
            h, y = 1.0 / 200, x
            for i in range(200):
                y = y + h * model(y, torch.full((1,), i * h, device=dev), mask)
            return y
        r["euler200_b1_s"] = best_ms(euler200, 1, warmup=0) / 1e3
        # the weights were on the device before the reset: the peak counts them plus what sampling adds
        r["sampling_peak_allocated_over_weights"] = torch.cuda.max_memory_allocated() / weights
        r["sampling_peak_reserved_over_weights"] = torch.cuda.max_memory_reserved() / weights
        r["before_sampling_allocated_mib"] = base_alloc / 2**20
        r["before_sampling_reserved_mib"] = base_reserved / 2**20
    return r


def compare(sisma_path, torch_path):
    """sisma vs PyTorch from the two JSON reports: GEMM GFLOPS ratios per precision, the model's figures."""
    s, t = json.load(open(sisma_path)), json.load(open(torch_path))
    print(f"sisma:   {s.get('device')}")
    print(f"PyTorch: {t.get('device')}, torch {t.get('torch')}, CUDA {t.get('cuda')}")
    if "cublas" in s:
        print(f"sisma without cuBLAS: {s['cublas']}")
    print(f"{'GEMM m x n x k':>20} {'prec':>5} {'cuBLAS GF':>10} {'torch GF':>10} {'ratio':>6}   sisma's kernel GF (ratio)")
    for shape, row in t["gemm_gflops"].items():
        mine = s["gemm_gflops"].get(shape, {})
        for p in ("fp32", "tf32", "bf16"):
            ours, theirs = mine.get("cublas_" + p), row.get("torch_" + p)
            kernel = mine.get("sk_gemm_" + p)
            extra = f"   {kernel:.0f} ({kernel / theirs:.2f})" if kernel else ""
            if ours is None:
                print(f"{shape:>20} {p:>5} {'-':>10} {theirs:>10.0f} {'-':>6}{extra}")
            else:
                print(f"{shape:>20} {p:>5} {ours:>10.0f} {theirs:>10.0f} {ours / theirs:>6.2f}{extra}")
    for p in ("fp32", "tf32"):
        ms, mt = s.get("model_" + p), t.get("model_" + p)
        if not ms or not mt:
            continue
        print(f"sisma-L/2, 256 tokens, {p}:")
        for key, better in (("step_b1_ms", "lower"), ("step_b16_ms", "lower"), ("euler200_b1_s", "lower"),
                            ("images_per_s_b16_200_steps", "higher")):
            a, b = ms[key], mt[key]
            print(f"  {key:<28} sisma {a:10.3f}   torch {b:10.3f}   sisma speed x{(b / a if better == 'lower' else a / b):.2f}")
        print(f"  sampling peak / weights      sisma {ms['sampling_peak_over_weights']:.2f} (device memory in use)   "
              f"torch {mt['sampling_peak_allocated_over_weights']:.2f} allocated, {mt['sampling_peak_reserved_over_weights']:.2f} reserved")


def main():
    if len(sys.argv) == 4 and sys.argv[1] == "--compare":
        compare(sys.argv[2], sys.argv[3])
        return
    ap = argparse.ArgumentParser()
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--shapes-out", help="write the model's GEMM shapes here, one 'm n k' a line (CudaBench --shapes)")
    ap.add_argument("--no-model", action="store_true")
    args = ap.parse_args()
    if not torch.cuda.is_available():
        sys.exit("cuda_peer.py: PyTorch sees no CUDA GPU (torch " + torch.__version__ + ")")
    set_precision("fp32")
    cfg = R.CONFIGS["sisma-L/2"].validate()
    torch.manual_seed(0)
    model = R.SISMA(cfg).float().eval()
    perturb_(model, 1)
    model = model.cuda()
    R.selective_scan_ref = R.selective_scan_vec
    x0 = torch.randn(1, cfg.in_channels, cfg.input_size, cfg.input_size, device="cuda")
    inputs = (x0, torch.full((1,), 0.5, device="cuda"), torch.rand(1, cfg.num_classes, cfg.mask_size, cfg.mask_size, device="cuda"))
    shapes = linear_shapes(model, inputs)
    if args.shapes_out:
        with open(args.shapes_out, "w") as f:
            f.writelines(f"{m} {n} {k}\n" for m, n, k in shapes)
    out = {"device": torch.cuda.get_device_name(0), "torch": torch.__version__, "cuda": torch.version.cuda,
           "gemm_gflops": gemm(shapes, args.reps)}
    if not args.no_model:
        for p in ("fp32", "tf32"):
            set_precision(p)
            out["model_" + p] = model_bench(model, cfg, args.reps)
        set_precision("fp32")
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
