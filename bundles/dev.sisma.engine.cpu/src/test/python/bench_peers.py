#!/usr/bin/python3
"""Peers for the engine benchmarks, in the same run: OpenBLAS sgemm through numpy and the
PyTorch plain-loop reference scan (the Mamba `selective_scan_ref` loop), against the Java
EngineBench. Prints one JSON document with the figures and the ratios (Java / peer).

Run by hand with Debian's /usr/bin/python3 ( Debian's python3-numpy and python3-torch):
    python3 bench_peers.py --java-cp <engine classes>:<cpu classes> [--java /path/to/java] [--seconds 1]
Without --java-cp only the peers run.
"""
import argparse, json, os, subprocess, sys, time

GEMMS = [(1024, 1024, 1024), (256, 1024, 4096), (256, 4096, 1024)]
SCAN = (1, 256, 2048, 16)


def median_time(fn, seconds):
    end = time.perf_counter() + seconds * 0.5
    fn()
    while time.perf_counter() < end:
        fn()
    ts = []
    end = time.perf_counter() + seconds
    while len(ts) < 5 or (time.perf_counter() < end and len(ts) < 1000):
        t = time.perf_counter()
        fn()
        ts.append(time.perf_counter() - t)
    ts.sort()
    return ts[len(ts) // 2]


def numpy_gemm(threads, seconds, python):
    """sgemm in a child process (the python given: its numpy must use OpenBLAS; Debian's numpy
    may be on the reference BLAS), so OPENBLAS_NUM_THREADS takes effect before numpy loads."""
    code = (
        "import numpy as np, json, sys\n"
        "try:\n"
        "    blas = np.show_config(mode='dicts')['Build Dependencies']['blas']['name']\n"
        "except Exception:\n"
        "    blas = 'unknown'\n"
        "sys.path.insert(0, %r)\n"
        "from bench_peers import median_time, GEMMS\n"
        "out = []\n"
        "for m, n, k in GEMMS:\n"
        "    a = np.random.rand(m, k).astype(np.float32); w = np.random.rand(n, k).astype(np.float32)\n"
        "    s = median_time(lambda: a @ w.T, %f)\n"
        "    out.append({'m': m, 'n': n, 'k': k, 'ms': s * 1e3, 'gflops': 2 * m * n * k / s / 1e9, 'blas': blas, 'numpy': np.__version__})\n"
        "print(json.dumps(out))\n" % (os.path.dirname(os.path.abspath(__file__)), seconds))
    env = dict(os.environ, OPENBLAS_NUM_THREADS=str(threads), OMP_NUM_THREADS=str(threads))
    return json.loads(subprocess.check_output([python, "-c", code], env=env))


def torch_scan(threads, seconds):
    import torch
    torch.set_num_threads(threads)
    b, l, e, n = SCAN
    g = torch.Generator().manual_seed(0)
    u = torch.rand(b, l, e, generator=g) * 2 - 1
    delta = (torch.rand(b, l, e, generator=g) * 0.1 + 0.001)
    A = -(torch.rand(e, n, generator=g) + 0.1)
    B = torch.rand(b, l, n, generator=g) * 2 - 1
    C = torch.rand(b, l, n, generator=g) * 2 - 1
    D = torch.rand(e, generator=g) + 0.5
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    from make_golden import selective_scan_ref
    with torch.no_grad():
        fwd = median_time(lambda: selective_scan_ref(u, delta, A, B, C, D), seconds)
    leaves = [t.clone().requires_grad_(True) for t in (u, delta, A, B, C, D)]
    y = selective_scan_ref(*leaves)
    dy = torch.rand_like(y)

    # PyTorch 1.13's CPU autograd through this loop takes tens of seconds: one timed run
    t = time.perf_counter()
    out = selective_scan_ref(*leaves)
    torch.autograd.grad(out, leaves, dy)
    both = time.perf_counter() - t
    return {"forward_ms": fwd * 1e3, "forward_backward_ms": both * 1e3, "backward_ms": (both - fwd) * 1e3}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--java-cp")
    ap.add_argument("--java", default=os.path.join(os.environ.get("JAVA_HOME", "/usr/lib/jvm/temurin-25-jdk-amd64"), "bin", "java"))
    ap.add_argument("--seconds", type=float, default=1.0)
    ap.add_argument("--numpy-python", default="python3", help="a python whose numpy uses OpenBLAS (default: python3 on PATH)")
    args = ap.parse_args()
    cores = os.cpu_count()
    report = {"date": time.strftime("%Y-%m-%d"), "cores": cores, "numpy_sgemm": {}, "torch_loop_scan": {}}
    for t in (1, cores):
        report["numpy_sgemm"][t] = numpy_gemm(t, args.seconds, args.numpy_python)
        report["torch_loop_scan"][t] = torch_scan(t, args.seconds)
    if args.java_cp:
        out = subprocess.check_output([args.java, "--add-modules", "jdk.incubator.vector", "-cp", args.java_cp,
                                       "dev.sisma.engine.cpu.EngineBench", str(args.seconds)], stderr=subprocess.DEVNULL)
        java = json.loads(out)
        report["java"] = java
        ratios = []
        for r in java["results"]:
            t = r["threads"]
            if r["op"] == "gemm":
                peer = next(p for p in report["numpy_sgemm"][t] if (p["m"], p["n"], p["k"]) == (r["m"], r["n"], r["k"]))
                ratios.append({"what": "gemm %dx%dx%d threads %d" % (r["m"], r["n"], r["k"], t),
                               "java_gflops": r["gflops"], "openblas_gflops": round(peer["gflops"], 1),
                               "java_over_openblas": round(r["gflops"] / peer["gflops"], 2)})
            else:
                peer = report["torch_loop_scan"][t]
                ratios.append({"what": "scan B1 L256 E2048 N16 threads %d" % t,
                               "java_forward_ms": r["forward_ms"], "torch_loop_forward_ms": round(peer["forward_ms"], 2),
                               "forward_speedup": round(peer["forward_ms"] / r["forward_ms"], 1),
                               "java_backward_ms": r["backward_ms"], "torch_loop_backward_ms": round(peer["backward_ms"], 2),
                               "backward_speedup": round(peer["backward_ms"] / r["backward_ms"], 1)})
        report["ratios"] = ratios
    print(json.dumps(report, indent=1))


if __name__ == "__main__":
    main()
