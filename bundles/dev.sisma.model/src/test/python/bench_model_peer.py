#!/usr/bin/python3
"""Model step times: the Java CPU path (`./sisma bench model`) against the PyTorch reference model
(sisma_ref.py) of the same config, in one run on one machine, with the ratio Java / PyTorch.

    /usr/bin/python3 bundles/dev.sisma.model/src/test/python/bench_model_peer.py \
        --configs sisma-S/2 --tokens 256,1024 --reps 3

PyTorch side: torch.set_num_threads(all cores), float32, batch 1.
  denoise = no_grad forward;
  train   = forward + MSE flow-matching loss + backward (what the Java "train" figure times), and
            train+adamw = the same plus an AdamW step (reported separately; the Java figure has no
            optimizer step, so the ratio uses the forward+backward figure).
The reference's selective scan is a plain Python loop over positions (mamba's selective_scan_ref):
it is the reference, not an optimised kernel. For the training step the loop takes its per-position
slices with unbind() instead of indexing: same loop, same arithmetic, identical output, but indexing
makes autograd materialise a full [E, L, N] gradient per position (O(L^2): 23 s per S/2 scan
backward at 256 tokens on the 2-vCPU VM against 0.28 s with unbind), which would measure autograd's
slicing, not the model. --torch-scan-as-is keeps the reference unchanged for the training step too.
Attention baseline, training step from --torch-checkpoint-attention-from tokens on (default 4096):
the attention core softmax(q k^T / sqrt(hd)) v runs under torch.utils.checkpoint, so autograd keeps
q, k, v and recomputes the [B, H, L, S] scores and probabilities in the backward instead of keeping
them for every block (torch 1.13 has no scaled_dot_product_attention; the Java side's Ops.attention
never keeps them). Without it the 4096-token S/2 step would keep about 19 GB of scores.

Each PyTorch case runs in its own child process (this script with --torch-case), so its peak
resident memory is its own; both sides' peaks are measured with /usr/bin/time (%M) where present.

Java side: runs `./sisma bench model --configs C --tokens T --reps N` from the repo root (or, with
--no-rebuild, the already built runtime directly, so a tree with others' half-done edits is not
rebuilt) and parses its lines. Each case is one JVM run per (config, tokens), so attention and
SISMA of one config at one token count come from the same JVM.
"""
import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import time
from dataclasses import replace

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", "..", "..", "..", ".."))
sys.path.insert(0, HERE)

import torch  # noqa: E402
import sisma_ref as R  # noqa: E402


def scan_unbind(u, delta, A, B, C, D):
    """selective_scan_ref with per-position slices by unbind() (see the module doc)."""
    deltaA = torch.exp(torch.einsum("bdl,dn->bdln", delta, A))
    deltaB_u = torch.einsum("bdl,bnl,bdl->bdln", delta, B, u)
    h = u.new_zeros(u.shape[0], u.shape[1], A.shape[1])
    ys = []
    for dA, dBu, c in zip(deltaA.unbind(2), deltaB_u.unbind(2), C.unbind(2)):
        h = dA * h + dBu
        ys.append(torch.einsum("bdn,bn->bd", h, c))
    return torch.stack(ys, dim=2) + u * D[None, :, None]


def torch_config(name, arch, tokens):
    g = int(round(tokens ** 0.5))
    assert g * g == tokens, "tokens must be a square"
    base = R.CONFIGS[name]
    inp = g * base.patch_size
    factor = base.mask_size // base.input_size
    return replace(base, arch=arch, input_size=inp, mask_size=inp * factor).validate()


def checkpointed(attend):
    """_attend under activation checkpointing: keeps q, k, v, recomputes the scores in backward."""
    import torch.utils.checkpoint as cp

    def run(q, k, v):
        return cp.checkpoint(attend, q, k, v)
    return run


def time_torch(name, arch, tokens, reps, train, adamw, as_is, warmup=1, ckpt=False):
    cfg = torch_config(name, arch, tokens)
    torch.manual_seed(0)
    model = R.SISMA(cfg).float()
    n_params = sum(p.numel() for p in model.parameters())
    x = torch.randn(1, cfg.in_channels, cfg.input_size, cfg.input_size)
    x1 = torch.randn_like(x)
    mask = torch.rand(1, cfg.num_classes, cfg.mask_size, cfg.mask_size)
    t = torch.full((1,), 0.5)
    out = dict(params=n_params)
    den = []
    for i in range(reps + warmup):
        t0 = time.perf_counter()
        with torch.no_grad():
            model(x, t, mask)
        if i >= warmup:
            den.append(time.perf_counter() - t0)
    out["denoise"] = statistics.median(den)
    if train:
        orig, orig_attend = R.selective_scan_ref, R._attend
        if not as_is:
            R.selective_scan_ref = scan_unbind
        if ckpt:
            R._attend = checkpointed(orig_attend)
            out["checkpointed_attention"] = True
        try:
            opt = torch.optim.AdamW(model.parameters(), lr=1e-4, weight_decay=0.0) if adamw else None
            tr, tra = [], []
            for i in range(reps + warmup):
                t0 = time.perf_counter()
                loss = R.fm_loss(model, x, x1, t, mask)
                loss.backward()
                t1 = time.perf_counter()
                if opt is not None:
                    opt.step()
                t2 = time.perf_counter()
                model.zero_grad(set_to_none=True)
                if i >= warmup:
                    tr.append(t1 - t0)
                    tra.append(t2 - t0)
            out["train"] = statistics.median(tr)
            if opt is not None:
                out["train_adamw"] = statistics.median(tra)
            del opt
        finally:
            R.selective_scan_ref, R._attend = orig, orig_attend
    del model
    return out


LINE = re.compile(r"^(\S+)\s+(\S+)\s+(\d+) tokens\s+([\d.]+)M params\s+denoise\s+([\d.]+) s\s+train\s+([\d.]+) s\s+"
                  r"gemm\s+([\d.]+)%\s+scan\s+([\d.]+)%\s+other\s+([\d.]+)%")


TIME = "/usr/bin/time"
RSS = re.compile(r"^SISMA_MAXRSS_KB=(\d+)$", re.M)


def measured(cmd):
    """cmd under /usr/bin/time -f (peak resident set size of the child), where that exists."""
    return [TIME, "-f", "SISMA_MAXRSS_KB=%M"] + cmd if os.path.exists(TIME) else cmd


def peak_gb(stderr):
    m = RSS.search(stderr or "")
    return int(m.group(1)) / 1024 / 1024 if m else None


def java_cmd(args, config, tokens):
    bench = ["bench", "model", "--configs", config, "--tokens", str(tokens), "--reps", str(args.reps)]
    if args.backend:
        bench += ["--backend", args.backend]
    if not args.no_rebuild:
        cmd = [os.path.join(ROOT, "sisma")] + bench
    else:
        rt = os.path.join(ROOT, "features", "runtime", "target", "sisma-runtime")
        java = os.path.join(os.environ.get("JAVA_HOME", "/usr/lib/jvm/temurin-25-jdk-amd64"), "bin", "java")
        cmd = [java, "--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED",
               "--sun-misc-unsafe-memory-access=allow", "-XX:+IgnoreUnrecognizedVMOptions",
               *os.environ.get("SISMA_JAVA_OPTS", "").split(),
               f"-Dsisma.runtime={rt}", f"-Dsisma.cwd={ROOT}",
               "-cp", f"{rt}/lib/org.apache.felix.framework.jar:{rt}/lib/dev.sisma.launcher.jar",
               "dev.sisma.launcher.Launcher"] + bench
    return cmd


def run_java(args, config, tokens):
    cmd = java_cmd(args, config, tokens)
    print("java:", " ".join(cmd[-9:]), flush=True)
    t0 = time.perf_counter()
    p = subprocess.run(measured(cmd), cwd=ROOT, capture_output=True, text=True)
    wall = time.perf_counter() - t0
    peak = peak_gb(p.stderr)
    print(f"  java exit {p.returncode}, {wall:.0f} s wall, peak RSS "
          f"{'-' if peak is None else f'{peak:.2f} GB'} (whole JVM, all cases of this run)", flush=True)
    res = {}
    for ln in p.stdout.splitlines():
        print("  |", ln, flush=True)
        m = LINE.match(ln.strip())
        if m:
            arch = "mamba" if m.group(2) == "sisma" else "attention"
            res[arch] = dict(params=float(m.group(4)) * 1e6, denoise=float(m.group(5)), train=float(m.group(6)),
                             gemm=float(m.group(7)), scan=float(m.group(8)), other=float(m.group(9)))
    if p.returncode != 0 or not res:
        print(p.stderr[-3000:], file=sys.stderr)
        raise SystemExit(f"java benchmark failed (exit {p.returncode}) for {config} at {tokens} tokens")
    for r in res.values():
        r["peak_gb"] = peak
    return res


def run_torch_case(args, c, a, tk, train, ckpt):
    """One PyTorch case in a child process (its own peak memory); returns its result dict."""
    case = dict(config=c, arch=a, tokens=tk, reps=args.reps, train=train, adamw=not args.no_adamw,
                as_is=args.torch_scan_as_is, warmup=args.torch_warmup, ckpt=ckpt)
    cmd = [sys.executable, os.path.abspath(__file__), "--torch-case", json.dumps(case)]
    p = subprocess.run(measured(cmd), capture_output=True, text=True)
    out = None
    for ln in p.stdout.splitlines():
        if ln.startswith("TORCH_RESULT "):
            out = json.loads(ln[len("TORCH_RESULT "):])
    if p.returncode != 0 or out is None:
        print(p.stdout[-2000:], p.stderr[-3000:], file=sys.stderr)
        raise SystemExit(f"torch case failed (exit {p.returncode}) for {c} {a} at {tk} tokens")
    out["peak_gb"] = peak_gb(p.stderr)
    return out


def fmt(v, unit="s"):
    return "-" if v is None else f"{v:.3f} {unit}"


def ratio(a, b):
    return "-" if a is None or b is None else f"{a / b:.2f}"


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--configs", default="sisma-S/2")
    ap.add_argument("--tokens", default="256,1024")
    ap.add_argument("--reps", type=int, default=3, help="timed repetitions per case, each side (median)")
    ap.add_argument("--archs", default="mamba,attention")
    ap.add_argument("--backend", default=None, help="Java backend name (default: the bench command's)")
    ap.add_argument("--train-max-tokens", type=int, default=1 << 30,
                    help="skip the PyTorch training step above this many tokens")
    ap.add_argument("--no-train-configs", default="", help="configs whose PyTorch training step is skipped")
    ap.add_argument("--no-train-archs", default="", help="blocks (mamba, attention) whose PyTorch training step is skipped")
    ap.add_argument("--torch-warmup", type=int, default=1, help="untimed PyTorch runs before the timed ones")
    ap.add_argument("--torch-checkpoint-attention-from", type=int, default=4096,
                    help="from this many tokens on, the attention baseline's PyTorch training step runs its "
                         "attention core under torch.utils.checkpoint (keeps no scores; recomputes them)")
    ap.add_argument("--torch-case", default=None, help=argparse.SUPPRESS)
    ap.add_argument("--no-adamw", action="store_true", help="do not time the AdamW step")
    ap.add_argument("--torch-scan-as-is", action="store_true",
                    help="training step through the unchanged reference scan (indexing; O(L^2) backward)")
    ap.add_argument("--no-java", action="store_true")
    ap.add_argument("--no-torch", action="store_true")
    ap.add_argument("--no-rebuild", action="store_true",
                    help="run the built runtime directly instead of ./sisma (which rebuilds the reactor on changes)")
    args = ap.parse_args()

    torch.set_num_threads(os.cpu_count())
    if args.torch_case:
        k = json.loads(args.torch_case)
        res = time_torch(k["config"], k["arch"], k["tokens"], k["reps"], k["train"], k["adamw"], k["as_is"],
                         k["warmup"], k["ckpt"])
        print("TORCH_RESULT " + json.dumps(res), flush=True)
        return
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, float32, batch 1; "
          f"PyTorch scan = plain Python loop over positions (reference, not an optimised kernel)", flush=True)
    configs = [c for c in args.configs.split(",") if c]
    tokens = [int(t) for t in args.tokens.split(",") if t]
    archs = [a for a in args.archs.split(",") if a]
    skip_train = set(c for c in args.no_train_configs.split(",") if c)
    skip_train_archs = set(a for a in args.no_train_archs.split(",") if a)
    rows = []
    for c in configs:
        for tk in tokens:
            jres = {} if args.no_java else run_java(args, c, tk)
            for a in archs:
                tres = {}
                if not args.no_torch:
                    train = tk <= args.train_max_tokens and c not in skip_train and a not in skip_train_archs
                    ckpt = train and a == "attention" and tk >= args.torch_checkpoint_attention_from
                    if ckpt:
                        print(f"torch: {c} {a} {tk}: training step with the attention core under "
                              f"torch.utils.checkpoint (scores recomputed in backward, not kept)", flush=True)
                    t0 = time.perf_counter()
                    tres = run_torch_case(args, c, a, tk, train, ckpt)
                    print(f"torch: {c} {a} {tk}: {tres} ({time.perf_counter() - t0:.0f} s wall)", flush=True)
                rows.append((c, a, tk, jres.get(a, {}), tres))

    print()
    print("| config | block | tokens | params | Java denoise | PyTorch denoise | ratio | Java train (fwd+bwd) "
          "| PyTorch train (fwd+bwd) | ratio | PyTorch fwd+bwd+AdamW | Java GEMM / scan / other |")
    print("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|")
    for c, a, tk, j, t in rows:
        p = j.get("params") or t.get("params")
        share = f"{j['gemm']:.1f}% / {j['scan']:.1f}% / {j['other']:.1f}%" if j else "-"
        print(f"| {c} | {'SISMA' if a == 'mamba' else 'attention'} | {tk} | {p / 1e6:.1f}M "
              f"| {fmt(j.get('denoise'))} | {fmt(t.get('denoise'))} | {ratio(j.get('denoise'), t.get('denoise'))} "
              f"| {fmt(j.get('train'))} | {fmt(t.get('train'))} | {ratio(j.get('train'), t.get('train'))} "
              f"| {fmt(t.get('train_adamw'))} | {share} |"
              + (" PyTorch train: checkpointed attention" if t.get("checkpointed_attention") else ""))
    print("\n| config | block | tokens | Java peak RSS (JVM) | PyTorch peak RSS (case process) |")
    print("|---|---|---:|---:|---:|")
    for c, a, tk, j, t in rows:
        print(f"| {c} | {'SISMA' if a == 'mamba' else 'attention'} | {tk} | {fmt(j.get('peak_gb'), 'GB')} "
              f"| {fmt(t.get('peak_gb'), 'GB')} |")
    print("\nratio = Java time / PyTorch time (target <= 1). PyTorch's selective scan is the reference's plain "
          "Python loop over positions, not an optimised kernel.")


if __name__ == "__main__":
    main()
