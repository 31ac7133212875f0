#!/usr/bin/python3
"""The model's headline table: one denoising step of sisma (`./sisma bench model`) against fair
PyTorch peers, in one run on one machine, at one thread count, as ratios.

    /usr/bin/python3 bundles/dev.sisma.model/src/test/python/bench_model_peer.py \
        [--configs sisma-S/2,sisma-L/2] [--tokens 256] [--threads N] [--blas-lib DIR] [--no-djl]

Peers (each in a child process of its own, so its peak memory is its own):
  torch     the reference model (sisma_ref.py) on this machine's PyTorch (Debian's 1.13) with its
            selective scan vectorised over batch, channels and states, a loop over positions in
            chunks (sisma_ref.selective_scan_vec; checked against the loop scan at start);
            torch.set_num_threads(--threads); OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE are removed
            from the child's environment (OpenBLAS then picks its own best kernel for the CPU) and
            an OpenBLAS libblas.so.3 goes first on its library path: --blas-lib DIR, else Debian's
            libopenblas0-openmp (OpenBLAS on torch's own OpenMP threads) where installed, else that
            package fetched by `apt-get download` and unpacked under the model bundle's target/ (the
            system is not changed). The child
            prints torch.__config__.show() and the BLAS it loaded; with the reference BLAS (Debian's
            default libblas3, about 2 GFLOPS) the run stops, unless --allow-reference-blas.
  djl       a current PyTorch: DJL's pytorch-native-cpu 2.7.1 from Maven Central (resolved by Maven
            through src/test/djl/pom.xml, offline once cached), running a TorchScript trace of the same
            model made by the torch peer (same weights, same inputs); DjlPeer.java prints its time
            and the max |difference| of its output from the torch peer's. --no-djl leaves it out.
The reference's plain loop scan (selective_scan_ref, what the goldens come from) is no speed peer;
--parity also runs the model once with it and prints the max |difference| from the vectorised one.

GEMM-bound limit: every Linear (and the patch embeds, as the GEMM they are) of one torch forward is
recorded with its shape; each distinct shape is then timed with torch's F.linear on the same BLAS
and threads, and limit = sum of those times = step GEMM FLOPs / OpenBLAS's GFLOPS at the model's
shapes. sisma's step / limit is the "x limit" column (the target is <= 1.3).

Weights: the reference's init with every parameter perturbed by seeded noise (make_golden.perturb_),
so the zero-initialised AdaLN and final layer do not make the output trivially zero. Batch 1.

--train also times a training step on the torch side (forward + flow-matching loss + backward, and
+ AdamW), with the scan's per-position slices taken by unbind() (indexing makes autograd
materialise a full [E, L, N] gradient per position); the Java side then runs without --no-train.

Java side: `./sisma bench model --configs C --tokens T --reps N --no-train --threads N` from the repo
root (with --no-rebuild, SISMA_SKIP_BUILD=1: the runtime as built, so a tree with half-done edits is
not rebuilt), one JVM per (config, tokens); its peak resident memory is measured with /usr/bin/time.
"""
import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import replace

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", "..", "..", "..", ".."))
DJL_DIR = os.path.join(HERE, "..", "djl")
sys.path.insert(0, HERE)

import torch  # noqa: E402
import sisma_ref as R  # noqa: E402


def scan_unbind(u, delta, A, B, C, D):
    """selective_scan_ref with per-position slices by unbind() (training step only; see the module doc)."""
    deltaA = torch.exp(torch.einsum("bdl,dn->bdln", delta, A))
    deltaB_u = torch.einsum("bdl,bnl,bdl->bdln", delta, B, u)
    h = u.new_zeros(u.shape[0], u.shape[1], A.shape[1])
    ys = []
    for dA, dBu, c in zip(deltaA.unbind(2), deltaB_u.unbind(2), C.unbind(2)):
        h = dA * h + dBu
        ys.append(torch.einsum("bdn,bn->bd", h, c))
    return torch.stack(ys, dim=2) + u * D[None, :, None]


def check_scan_parity():
    """The vectorised scan (the speed peers') equals the reference loop scan (the goldens'), the
    scripted form the traces use too."""
    worst = R.scan_parity([R.selective_scan_vec, torch.jit.script(R.selective_scan_vec)])
    assert worst < 1e-12, f"vectorised scan differs from the reference loop scan by {worst}"
    return worst


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


def loaded_blas():
    """The BLAS libraries mapped into this process, and OpenBLAS's own description when it is one."""
    libs = sorted({ln.split()[-1] for ln in open("/proc/self/maps") if "blas" in ln.split()[-1]})
    desc = None
    for lib in libs:
        if "openblas" in lib:
            import ctypes
            ob = ctypes.CDLL(lib)
            ob.openblas_get_config.restype = ob.openblas_get_corename.restype = ctypes.c_char_p
            desc = f"{ob.openblas_get_config().decode()} core {ob.openblas_get_corename().decode()}"
            break
    return libs, desc


def gemm_limit(model, inputs, reps):
    """Records every Linear and patch-embed GEMM (M, N, K) of one forward, then times each distinct
    shape with F.linear on this BLAS: the step's GEMM FLOPs and the time OpenBLAS needs for them."""
    shapes = {}

    def hook(mod, inp, out):
        if isinstance(mod, torch.nn.Linear):
            k, n = mod.in_features, mod.out_features
        else:  # the patch embeds: a GEMM of [B T, C p p] by [D, C p p]
            k, n = mod.in_channels * mod.kernel_size[0] * mod.kernel_size[1], mod.out_channels
        key = (out.numel() // n, n, k, mod.bias is not None)
        shapes[key] = shapes.get(key, 0) + 1
    hs = [m.register_forward_hook(hook) for m in model.modules() if isinstance(m, (torch.nn.Linear, torch.nn.Conv2d))]
    with torch.no_grad():
        model(*inputs)
    for h in hs:
        h.remove()
    flops = seconds = 0.0
    with torch.no_grad():
        for (m, n, k, bias), count in shapes.items():
            x, w = torch.randn(m, k), torch.randn(n, k)
            b = torch.randn(n) if bias else None
            torch.nn.functional.linear(x, w, b)
            ts = []
            for _ in range(max(3, reps)):
                t0 = time.perf_counter()
                torch.nn.functional.linear(x, w, b)
                ts.append(time.perf_counter() - t0)
            flops += count * 2.0 * m * n * k
            seconds += count * statistics.median(ts)
    return dict(gemm_flops=flops, gemm_seconds=seconds, blas_gflops=flops / seconds / 1e9, gemm_shapes=len(shapes))


def write_f32(path, t):
    t.detach().contiguous().float().numpy().astype("<f4").tofile(path)


def time_torch(name, arch, tokens, reps, train, adamw, as_is, warmup=1, ckpt=False, scan="vec",
               parity=False, trace_dir=None, warmup_seconds=0.0):
    from make_golden import perturb_
    cfg = torch_config(name, arch, tokens)
    torch.manual_seed(0)
    model = R.SISMA(cfg).float().eval()
    perturb_(model, 1)
    n_params = sum(p.numel() for p in model.parameters())
    g = torch.Generator().manual_seed(2)
    x = torch.randn(1, cfg.in_channels, cfg.input_size, cfg.input_size, generator=g)
    x1 = torch.randn(x.shape, generator=g)
    mask = torch.rand(1, cfg.num_classes, cfg.mask_size, cfg.mask_size, generator=g)
    t = torch.full((1,), 0.5)
    libs, desc = loaded_blas()
    out = dict(params=n_params, torch=torch.__version__, threads=torch.get_num_threads(), blas=libs, openblas=desc)
    orig_scan = R.selective_scan_ref
    if scan == "vec":
        R.selective_scan_ref = torch.jit.script(R.selective_scan_vec)
    den = []
    try:
        with torch.no_grad():
            # untimed runs: at least `warmup` and at least warmup_seconds of them (the rule every side gets)
            warm_start, i = time.perf_counter(), 0
            while i < warmup or time.perf_counter() - warm_start < warmup_seconds:
                v = model(x, t, mask)
                i += 1
            for i in range(reps):
                t0 = time.perf_counter()
                v = model(x, t, mask)
                den.append(time.perf_counter() - t0)
            if parity:
                R.selective_scan_ref = orig_scan
                t0 = time.perf_counter()
                out["parity_max_abs_diff"] = (model(x, t, mask) - v).abs().max().item()
                out["loop_scan_seconds"] = time.perf_counter() - t0
                if scan == "vec":
                    R.selective_scan_ref = torch.jit.script(R.selective_scan_vec)
        out["denoise"] = statistics.median(den)
        out["v_max_abs"] = v.abs().max().item()
        out.update(gemm_limit(model, (x, t, mask), reps))
        if trace_dir:
            import warnings
            warnings.filterwarnings("ignore", category=torch.jit.TracerWarning)  # shapes become constants: the trace is for these shapes
            with torch.no_grad():
                traced = torch.jit.trace(model, (x, t, mask), check_trace=False)
            traced.save(os.path.join(trace_dir, "model.pt"))
            for nm, tt in (("x", x), ("t", t), ("mask", mask), ("v", v)):
                write_f32(os.path.join(trace_dir, nm + ".f32"), tt)
            with open(os.path.join(trace_dir, "shapes.json"), "w") as f:
                json.dump({nm: list(tt.shape) for nm, tt in (("x", x), ("t", t), ("mask", mask), ("v", v))}, f)
    finally:
        R.selective_scan_ref = orig_scan
    if train:
        orig_attend = R._attend
        if not as_is:
            R.selective_scan_ref = scan_unbind
        if ckpt:
            R._attend = checkpointed(orig_attend)
            out["checkpointed_attention"] = True
        try:
            model.train()
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
            R.selective_scan_ref, R._attend = orig_scan, orig_attend
    del model
    return out


LINE = re.compile(r"^(\S+)\s+(\S+)\s+(\d+) tokens\s+([\d.]+)M params\s+denoise\s+([\d.]+) s\s+"
                  r"(?:train\s+([\d.]+) s|train not run)\s+gemm\s+([\d.]+)%\s+scan\s+([\d.]+)%\s+other\s+([\d.]+)%")


TIME = "/usr/bin/time"
RSS = re.compile(r"^SISMA_MAXRSS_KB=(\d+)$", re.M)


def measured(cmd):
    """cmd under /usr/bin/time -f (peak resident set size of the child), where that exists."""
    return [TIME, "-f", "SISMA_MAXRSS_KB=%M"] + cmd if os.path.exists(TIME) else cmd


def peak_gb(stderr):
    m = RSS.search(stderr or "")
    return int(m.group(1)) / 1024 / 1024 if m else None


def java_cmd(args, config, tokens):
    bench = ["bench", "model", "--configs", config, "--tokens", str(tokens), "--reps", str(args.reps),
             "--warmup-seconds", str(args.warmup_seconds),
             "--blocks", ",".join("sisma" if a == "mamba" else a for a in args.archs.split(",")), "--threads", str(args.threads)]
    if not args.train:
        bench.append("--no-train")
    if args.ops:
        bench += ["--ops", str(args.ops)]
    if args.backend:
        bench += ["--backend", args.backend]
    return [os.path.join(ROOT, "sisma")] + bench


def run_java(args, config, tokens):
    cmd = java_cmd(args, config, tokens)
    print("java:", " ".join(cmd[cmd.index("bench"):]), flush=True)
    t0 = time.perf_counter()
    env = dict(os.environ, SISMA_SKIP_BUILD="1") if args.no_rebuild else None
    p = subprocess.run(measured(cmd), cwd=ROOT, capture_output=True, text=True, env=env)
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
            res[arch] = dict(params=float(m.group(4)) * 1e6, denoise=float(m.group(5)),
                             train=float(m.group(6)) if m.group(6) else None,
                             gemm=float(m.group(7)), scan=float(m.group(8)), other=float(m.group(9)))
    if p.returncode != 0 or not res:
        print(p.stderr[-3000:], file=sys.stderr)
        raise SystemExit(f"java benchmark failed (exit {p.returncode}) for {config} at {tokens} tokens")
    for r in res.values():
        r["peak_gb"] = peak
    return res


def openblas_dir():
    """A folder with an OpenBLAS libblas.so.3 for the torch peer when none is given: Debian's
    libopenblas0-openmp, installed or else fetched with apt-get download and unpacked under the model
    bundle's target/ (the system is not touched). The OpenMP build, not the pthreads one: torch runs
    its own ops on OpenMP, and a second pool of OpenBLAS threads competes with torch's spinning
    OpenMP workers (the pthreads build ran the model's GEMM shapes 1.6-2.5x slower on the 2-vCPU VM)."""
    for d in ("/usr/lib/x86_64-linux-gnu/openblas-openmp", "/usr/lib/aarch64-linux-gnu/openblas-openmp"):
        if os.path.exists(os.path.join(d, "libblas.so.3")):
            return d
    base = os.path.join(ROOT, "bundles", "dev.sisma.model", "target", "openblas-openmp")
    found = [r for r, _, fs in os.walk(base) if "libblas.so.3" in fs] if os.path.isdir(base) else []
    if found:
        return found[0]
    os.makedirs(base, exist_ok=True)
    print("torch peer: fetching Debian's libopenblas0-openmp into", base, flush=True)
    p = subprocess.run(["apt-get", "download", "libopenblas0-openmp"], cwd=base, capture_output=True, text=True)
    debs = [f for f in os.listdir(base) if f.endswith(".deb")]
    if p.returncode != 0 or not debs:
        raise SystemExit("no OpenBLAS for the torch peer: install libopenblas0-openmp or pass --blas-lib DIR ("
                         + (p.stderr or "").strip()[-300:] + ")")
    subprocess.run(["dpkg-deb", "-x", os.path.join(base, debs[0]), os.path.join(base, "x")], check=True)
    found = [r for r, _, fs in os.walk(base) if "libblas.so.3" in fs]
    if not found:
        raise SystemExit(f"{debs[0]} holds no libblas.so.3")
    return found[0]


def torch_env(args):
    """The torch children's environment: OpenBLAS picks its own kernel (no forced core type or L2
    size), at --threads threads, with --blas-lib first on the library path."""
    env = {k: v for k, v in os.environ.items() if k not in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")}
    env.update(OMP_NUM_THREADS=str(args.threads), OPENBLAS_NUM_THREADS=str(args.threads))
    if args.blas_lib:
        env["LD_LIBRARY_PATH"] = os.path.abspath(args.blas_lib) + os.pathsep + env.get("LD_LIBRARY_PATH", "")
    return env


def child_result(cmd, env, tag, what):
    """Runs a peer process (under /usr/bin/time) and returns the JSON of its `tag` line, with its peak RSS."""
    p = subprocess.run(measured(cmd), capture_output=True, text=True, env=env)
    out = None
    for ln in p.stdout.splitlines():
        if ln.startswith(tag + " "):
            out = json.loads(ln[len(tag) + 1:])
    if p.returncode != 0 or out is None:
        print(p.stdout[-2000:], p.stderr[-3000:], file=sys.stderr)
        raise SystemExit(f"{what} failed (exit {p.returncode})")
    out["peak_gb"] = peak_gb(p.stderr)
    return out


def run_torch_case(args, c, a, tk, train, ckpt, trace_dir=None):
    """One PyTorch case in a child process (its own peak memory); returns its result dict."""
    case = dict(config=c, arch=a, tokens=tk, reps=args.reps, train=train, adamw=not args.no_adamw,
                as_is=args.torch_scan_as_is, warmup=args.torch_warmup, ckpt=ckpt, threads=args.threads,
                parity=args.parity, trace_dir=trace_dir, warmup_seconds=args.warmup_seconds)
    cmd = [sys.executable, os.path.abspath(__file__), "--torch-case", json.dumps(case)]
    out = child_result(cmd, torch_env(args), "TORCH_RESULT", f"torch case for {c} {a} at {tk} tokens")
    if not args.allow_reference_blas and not out.get("openblas"):
        raise SystemExit(f"the torch peer loaded no OpenBLAS ({out.get('blas')}): the reference BLAS is no fair peer; "
                         "pass --blas-lib DIR (see the module doc) or --allow-reference-blas")
    return out


def djl_classpath(args):
    """DJL's jars, resolved by Maven from src/test/djl/pom.xml (offline first, then from Maven Central)."""
    out = os.path.join(tempfile.gettempdir(), f"sisma-djl-{os.getuid()}.cp")
    env = dict(os.environ)
    env.setdefault("JAVA_HOME", "/usr/lib/jvm/temurin-25-jdk-amd64")
    for offline in (["-o"], []):
        p = subprocess.run(["mvn", "-q", "-B", *offline, "-f", os.path.join(DJL_DIR, "pom.xml"), "dependency:build-classpath",
                            f"-Dmdep.outputFile={out}"], capture_output=True, text=True, env=env)
        if p.returncode == 0:
            return open(out).read().strip()
    raise SystemExit("could not resolve DJL (ai.djl.pytorch:pytorch-native-cpu 2.7.1 from Maven Central): "
                     + (p.stdout + p.stderr)[-1500:])


def run_djl(args, trace_dir):
    """DjlPeer.java on DJL's PyTorch 2.7.1: loads the trace, times it, compares with the torch peer's v."""
    java = os.path.join(os.environ.get("JAVA_HOME", "/usr/lib/jvm/temurin-25-jdk-amd64"), "bin", "java")
    cache = os.path.join(ROOT, "bundles", "dev.sisma.model", "target", "djl-cache")  # DJL extracts its native libraries here
    env = dict(torch_env(args), DJL_CACHE_DIR=cache, ENGINE_CACHE_DIR=cache)
    cmd = [java, "-cp", args.djl_cp, f"-Dai.djl.pytorch.num_threads={args.threads}", "-Dai.djl.pytorch.num_interop_threads=1",
           "-Dai.djl.offline=true", "-Dorg.slf4j.simpleLogger.defaultLogLevel=warn",
           os.path.join(DJL_DIR, "DjlPeer.java"), trace_dir, str(args.reps), str(args.torch_warmup),
           str(args.warmup_seconds)]
    return child_result(cmd, env, "DJL_RESULT", "DJL peer")


def fmt(v, unit="s"):
    return "-" if v is None else f"{v:.3f} {unit}"


def ratio(a, b):
    return "-" if a is None or b is None else f"{a / b:.2f}"


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--configs", default="sisma-S/2,sisma-L/2")
    ap.add_argument("--tokens", default="256")
    ap.add_argument("--reps", type=int, default=3, help="timed repetitions per case, each side (median)")
    ap.add_argument("--threads", type=int, default=os.cpu_count(), help="threads of every side (default: all cores)")
    ap.add_argument("--archs", default="mamba", help="mamba (SISMA) and/or attention (the baseline), comma-separated")
    ap.add_argument("--blas-lib", default=None,
                    help="folder with an OpenBLAS libblas.so.3 for the torch peer (default: Debian's libopenblas0-openmp, "
                         "installed, or fetched with apt-get download into the model bundle's target/)")
    ap.add_argument("--allow-reference-blas", action="store_true", help="run the torch peer without OpenBLAS")
    ap.add_argument("--no-djl", action="store_true", help="leave out the PyTorch 2.7.1 peer (DJL)")
    ap.add_argument("--parity", action="store_true",
                    help="also run the torch model once with the reference loop scan and print the difference")
    ap.add_argument("--ops", type=int, default=0, help="Java: also print the N slowest backend ops")
    ap.add_argument("--backend", default=None, help="Java backend name (default: the bench command's)")
    ap.add_argument("--train", action="store_true", help="also time training steps (slow)")
    ap.add_argument("--torch-warmup", type=int, default=1, help="untimed PyTorch runs before the timed ones (at least)")
    ap.add_argument("--warmup-seconds", type=float, default=5.0,
                    help="every side: untimed steps until they took this long (at least the minimum count): sisma's JIT compiles meanwhile")
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

    if args.torch_case:
        k = json.loads(args.torch_case)
        torch.set_num_threads(k["threads"])
        res = time_torch(k["config"], k["arch"], k["tokens"], k["reps"], k["train"], k["adamw"], k["as_is"],
                         k["warmup"], k["ckpt"], parity=k["parity"], trace_dir=k["trace_dir"],
                         warmup_seconds=k["warmup_seconds"])
        res["config_show"] = torch.__config__.show()
        res["parallel_info"] = torch.__config__.parallel_info()
        print("TORCH_RESULT " + json.dumps(res), flush=True)
        return
    t_start = time.perf_counter()
    if not args.no_torch and not args.blas_lib and not args.allow_reference_blas:
        args.blas_lib = openblas_dir()
    print(f"scan parity: vectorised vs loop scan, max |diff| {check_scan_parity():.1e} (float64)", flush=True)
    env_note = {k: os.environ.get(k) for k in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE") if os.environ.get(k)}
    print(f"threads {args.threads} (every side); removed from the torch peers' environment: {env_note or 'nothing set'}",
          flush=True)
    if not args.no_djl and not args.no_torch:
        args.djl_cp = djl_classpath(args)
    configs = [c for c in args.configs.split(",") if c]
    tokens = [int(t) for t in args.tokens.split(",") if t]
    archs = [a for a in args.archs.split(",") if a]
    rows = []
    shown = False
    for c in configs:
        for tk in tokens:
            jres = {} if args.no_java else run_java(args, c, tk)
            for a in archs:
                tres, dres = {}, {}
                if not args.no_torch:
                    train = args.train
                    ckpt = train and a == "attention" and tk >= args.torch_checkpoint_attention_from
                    with tempfile.TemporaryDirectory(prefix="sisma-peer-") as td:
                        t0 = time.perf_counter()
                        tres = run_torch_case(args, c, a, tk, train, ckpt, None if args.no_djl else td)
                        if not shown:
                            print("torch peer:", tres["torch"], f"{tres['threads']} threads; BLAS loaded:", tres["blas"],
                                  "|", tres["openblas"], flush=True)
                            print(tres["config_show"], tres["parallel_info"], sep="\n", flush=True)
                            shown = True
                        brief = {k: v for k, v in tres.items() if k not in ("config_show", "parallel_info", "blas")}
                        print(f"torch: {c} {a} {tk}: {brief} ({time.perf_counter() - t0:.0f} s wall)", flush=True)
                        if not args.no_djl:
                            t0 = time.perf_counter()
                            dres = run_djl(args, td)
                            print(f"djl: {c} {a} {tk}: {dres} ({time.perf_counter() - t0:.0f} s wall)", flush=True)
                rows.append((c, a, tk, jres.get(a, {}), tres, dres))

    print()
    print(f"Headline: one denoising step, batch 1, {args.threads} threads every side; ratio = sisma time / peer time "
          "(< 1: sisma faster); x limit = sisma / GEMM-bound limit (step GEMM FLOPs / OpenBLAS's GFLOPS at the "
          "model's shapes, same run)")
    print()
    print("| config | block | tokens | sisma | PyTorch 1.13 (OpenBLAS, vectorised scan) | ratio | PyTorch 2.7.1 (DJL, trace) "
          "| ratio | GEMM-bound limit | x limit | step GFLOP | OpenBLAS GFLOPS | sisma GEMM / scan / other |")
    print("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|")
    for c, a, tk, j, t, d in rows:
        share = f"{j['gemm']:.1f}% / {j['scan']:.1f}% / {j['other']:.1f}%" if j else "-"
        lim = t.get("gemm_seconds")
        print(f"| {c} | {'SISMA' if a == 'mamba' else 'attention'} | {tk} | {fmt(j.get('denoise'))} "
              f"| {fmt(t.get('denoise'))} | {ratio(j.get('denoise'), t.get('denoise'))} "
              f"| {fmt(d.get('seconds'))} | {ratio(j.get('denoise'), d.get('seconds'))} "
              f"| {fmt(lim)} | {ratio(j.get('denoise'), lim)} "
              f"| {'-' if lim is None else '%.0f' % (t['gemm_flops'] / 1e9)} "
              f"| {'-' if lim is None else '%.0f' % t['blas_gflops']} | {share} |")
    print("\n| config | block | tokens | sisma peak RSS (JVM) | torch 1.13 peak RSS | DJL peak RSS | DJL vs torch max abs diff "
          "| max abs v | loop-scan parity |")
    print("|---|---|---:|---:|---:|---:|---:|---:|---:|")
    for c, a, tk, j, t, d in rows:
        par = t.get("parity_max_abs_diff")
        print(f"| {c} | {'SISMA' if a == 'mamba' else 'attention'} | {tk} | {fmt(j.get('peak_gb'), 'GB')} "
              f"| {fmt(t.get('peak_gb'), 'GB')} | {fmt(d.get('peak_gb'), 'GB')} "
              f"| {'-' if not d else '%.2e' % d['max_abs_diff']} | {'-' if not t else '%.3f' % t['v_max_abs']} "
              f"| {'-' if par is None else '%.2e' % par} |")
    if args.train:
        print("\n| config | block | tokens | sisma train (fwd+bwd) | PyTorch train (fwd+bwd) | ratio | PyTorch fwd+bwd+AdamW |")
        print("|---|---|---:|---:|---:|---:|---:|")
        for c, a, tk, j, t, d in rows:
            print(f"| {c} | {'SISMA' if a == 'mamba' else 'attention'} | {tk} | {fmt(j.get('train'))} | {fmt(t.get('train'))} "
                  f"| {ratio(j.get('train'), t.get('train'))} | {fmt(t.get('train_adamw'))} |")
    print(f"\n{time.perf_counter() - t_start:.0f} s in all; load average now {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
