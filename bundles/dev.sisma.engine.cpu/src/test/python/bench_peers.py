#!/usr/bin/python3
"""Peers for the engine benchmarks, in the same run: OpenBLAS sgemm (numpy `a @ w.T`, or
torch.mm where numpy is on the reference BLAS) and the PyTorch plain-loop reference scan (the
Mamba `selective_scan_ref` loop), against the Java EngineBench (run by CpuEngineBench, a test class:
the CPU backend at 1 thread and all cores). Prints one JSON document with the figures and the
ratios (Java / peer).

Run by hand with Debian's /usr/bin/python3 (Debian's python3-numpy and python3-torch):
    python3 bench_peers.py --java-cp <engine classes>:<cpu classes>:<cpu test classes> [--java /path/to/java] [--seconds 1]
        [--blas-lib DIR] [--no-scan]
Debian's numpy and torch both link libblas.so.3, which is the reference BLAS unless an OpenBLAS
package is installed. Without root: `apt-get download libopenblas0-pthread && dpkg-deb -x
libopenblas0-pthread_*.deb ob` and pass `--blas-lib ob/usr/lib/x86_64-linux-gnu/openblas-pthread`.
Each sgemm row names the peer and the BLAS libraries it loaded. Without --java-cp only the peers run.
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


def blas_gemm(threads, seconds, python, blas_lib=None):
    """sgemm in a child process, so OPENBLAS_NUM_THREADS takes effect before the BLAS loads.
    Uses numpy `a @ w.T`, or torch.mm (torch.set_num_threads) when numpy's BLAS is the slow
    reference one (Debian's default libblas3). `blas_lib`, a folder holding an OpenBLAS
    libblas.so.3 (e.g. /usr/lib/x86_64-linux-gnu/openblas-pthread from Debian's
    libopenblas0-pthread), goes first on LD_LIBRARY_PATH for the child only."""
    code = (
        "import numpy as np, json, sys, time\n"
        "sys.path.insert(0, %r)\n"
        "from bench_peers import median_time, GEMMS\n"
        "def loaded_blas():\n"
        "    libs = set()\n"
        "    for line in open('/proc/self/maps'):\n"
        "        f = line.split()[-1]\n"
        "        if 'blas' in f: libs.add(f)\n"
        "    return sorted(libs)\n"
        "a = np.random.rand(512, 512).astype(np.float32)\n"
        "t = time.perf_counter(); a @ a.T; a @ a.T; slow = (time.perf_counter() - t) / 2 > 2 * 512 ** 3 / 10e9\n"
        "peer = 'numpy'\n"
        "if slow:  # reference BLAS (about 2 GFLOPS): torch.mm\n"
        "    import torch\n"
        "    torch.set_num_threads(%d)\n"
        "    peer = 'torch ' + torch.__version__\n"
        "out = []\n"
        "for m, n, k in GEMMS:\n"
        "    a = np.random.rand(m, k).astype(np.float32); w = np.random.rand(n, k).astype(np.float32)\n"
        "    if slow:\n"
        "        ta, tw = torch.from_numpy(a), torch.from_numpy(w)\n"
        "        fn = lambda: torch.mm(ta, tw.t())\n"
        "    else:\n"
        "        fn = lambda: a @ w.T\n"
        "    s = median_time(fn, %f)\n"
        "    out.append({'m': m, 'n': n, 'k': k, 'ms': s * 1e3, 'gflops': 2 * m * n * k / s / 1e9, 'peer': peer,\n"
        "                'numpy': np.__version__, 'blas': loaded_blas()})\n"
        "print(json.dumps(out))\n" % (os.path.dirname(os.path.abspath(__file__)), threads, seconds))
    env = dict(os.environ, OPENBLAS_NUM_THREADS=str(threads), OMP_NUM_THREADS=str(threads))
    if blas_lib:
        env["LD_LIBRARY_PATH"] = blas_lib + os.pathsep + env.get("LD_LIBRARY_PATH", "")
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
    ap.add_argument("--numpy-python", default="/usr/bin/python3", help="the python for the sgemm peer (numpy; torch if numpy's BLAS is the reference one)")
    ap.add_argument("--blas-lib", help="folder with an OpenBLAS libblas.so.3, put first on the sgemm peer's LD_LIBRARY_PATH")
    ap.add_argument("--no-scan", action="store_true", help="skip the PyTorch loop scan peer (slow)")
    args = ap.parse_args()
    cores = os.cpu_count()
    report = {"date": time.strftime("%Y-%m-%d"), "cores": cores, "sgemm": {}, "torch_loop_scan": {}}
    for t in (1, cores):
        report["sgemm"][t] = blas_gemm(t, args.seconds, args.numpy_python, args.blas_lib)
        if not args.no_scan:
            report["torch_loop_scan"][t] = torch_scan(t, args.seconds)
    if args.java_cp:
        out = subprocess.check_output([args.java, "--add-modules", "jdk.incubator.vector", "-cp", args.java_cp,
                                       "dev.sisma.engine.cpu.CpuEngineBench", str(args.seconds)], stderr=subprocess.DEVNULL)
        java = json.loads(out)
        report["java"] = java
        ratios = []
        for r in java["results"]:
            t = r["threads"]
            if r["op"] == "gemm":
                peer = next(p for p in report["sgemm"][t] if (p["m"], p["n"], p["k"]) == (r["m"], r["n"], r["k"]))
                ratios.append({"what": "gemm %dx%dx%d threads %d" % (r["m"], r["n"], r["k"], t),
                               "java_gflops": r["gflops"], "peer": peer["peer"], "peer_gflops": round(peer["gflops"], 1),
                               "java_over_peer": round(r["gflops"] / peer["gflops"], 2)})
            elif t in report["torch_loop_scan"]:
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
