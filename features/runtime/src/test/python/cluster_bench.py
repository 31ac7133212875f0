#!/usr/bin/env python3
"""Throughput of `sisma sample --cluster` with 1, 2 and 3 workers on this machine, and the cost per
job of the cluster against the single-node `sisma sample`, from the same masks in the same run.

Each JVM is small (-Xmx, -XX:ActiveProcessorCount=1: one CPU backend thread) and, where the machine
has the cores, pinned to a core of its own with taskset (worker i on core i mod cores; the
coordinator, which runs no job, on the last core). Per-job cost is taken as a slope, so that JVM
start, model load and JIT warm-up cancel out: (wall(N2 masks) - wall(N1 masks)) / (N2 - N1), for
the single node and for one worker. Prints the load average before and after.

    /usr/bin/python3 features/runtime/src/test/python/cluster_bench.py \
        --runtime features/runtime/target/sisma-runtime --examples examples [--steps 4] [--n1 8] [--n2 24]
"""
import argparse
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time

JVM = ["-Xmx384m", "-XX:ActiveProcessorCount=1", "--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED"]


def java_cmd(runtime, args):
    java = os.path.join(os.environ.get("JAVA_HOME", "/usr/lib/jvm/temurin-25-jdk-amd64"), "bin", "java")
    cp = os.path.join(runtime, "lib", "org.apache.felix.framework.jar") + ":" + os.path.join(runtime, "lib", "dev.sisma.launcher.jar")
    return [java] + JVM + ["-Dsisma.runtime=" + runtime, "-cp", cp, "dev.sisma.launcher.Launcher"] + args


def pinned(core, cmd):
    return (["taskset", "-c", str(core)] + cmd) if shutil.which("taskset") else cmd


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def masks(examples, n, into):
    os.makedirs(into, exist_ok=True)
    faces = sorted(f for f in os.listdir(examples) if re.fullmatch(r"face-\d+\.png", f))
    for i in range(n):
        shutil.copy(os.path.join(examples, faces[i % len(faces)]), os.path.join(into, "m%03d.png" % i))
    return into


def run(cmd):
    t0 = time.monotonic()
    p = subprocess.run(cmd, capture_output=True, text=True)
    if p.returncode != 0:
        sys.exit("failed: %s\n%s\n%s" % (" ".join(cmd), p.stdout[-2000:], p.stderr[-2000:]))
    return time.monotonic() - t0, p.stdout


def start_worker(runtime, core, cluster, port, members):
    p = subprocess.Popen(pinned(core, java_cmd(runtime, ["worker", "--cluster", cluster, "--port", str(port), "--members", members])),
                         stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    for line in p.stdout:
        if "waiting for work" in line:
            return p
    sys.exit("a worker did not start")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--runtime", required=True)
    ap.add_argument("--examples", required=True)
    ap.add_argument("--samples", type=int, default=4)
    ap.add_argument("--steps", type=int, default=25)
    ap.add_argument("--n1", type=int, default=4)
    ap.add_argument("--n2", type=int, default=20)
    a = ap.parse_args()
    runtime = os.path.abspath(a.runtime)
    cores = os.cpu_count() or 1
    work = tempfile.mkdtemp(prefix="sisma-cluster-bench-")
    opts = ["--samples", str(a.samples), "--steps", str(a.steps), "--sampler", "euler", "--seed", "0"]
    print("load before: %s" % open("/proc/loadavg").read().strip())
    print("cores: %d; each JVM -XX:ActiveProcessorCount=1%s" % (cores, ", pinned with taskset" if shutil.which("taskset") else ""))

    # Single node: sisma sample, one JVM on core 0.
    local = {}
    for n in (a.n1, a.n2):
        d = masks(a.examples, n, os.path.join(work, "local-masks-%d" % n))
        local[n], _ = run(pinned(0, java_cmd(runtime, ["sample", "--masks", d, "--out", os.path.join(work, "local-out-%d" % n)] + opts)))
    local_slope = (local[a.n2] - local[a.n1]) / (a.n2 - a.n1)
    print("single node: %d masks %.1f s, %d masks %.1f s -> %.3f s per mask, %.2f masks/s"
          % (a.n1, local[a.n1], a.n2, local[a.n2], local_slope, 1 / local_slope))

    results = {}
    for k in (1, 2, 3):
        cluster = "bench-%d-%d" % (os.getpid(), k)
        ports = [free_port() for _ in range(k)]
        members = ",".join("127.0.0.1:%d" % p for p in ports)
        workers = []
        try:
            for i in range(k):
                workers.append(start_worker(runtime, i % cores, cluster, ports[i], members))
            coord_core = cores - 1

            def batch(n, tag):
                d = masks(a.examples, n, os.path.join(work, "cl%d-%s-masks" % (k, tag)))
                wall, out = run(pinned(coord_core, java_cmd(runtime, ["sample", "--masks", d, "--out",
                                os.path.join(work, "cl%d-%s-out" % (k, tag)), "--cluster", cluster, "--members", members,
                                "--port", str(free_port())] + opts)))
                m = re.search(r"mask\(s\) in ([\d.]+) s on cluster '[^']*': ([\d.]+) masks/s", out)
                workers_ = re.findall(r"  worker (\S+): (\d+) mask\(s\), [\d.]+ masks/s over the run, ([\d.]+) s per mask", out)
                return wall, float(m.group(2)), workers_

            # as many warm-up masks as the single node's first run, whose time its slope leaves out:
            # on one core the JIT takes several masks to compile the kernels
            batch(max(a.n1, 2 * k), "warm-up")
            wall, rate, per_worker = batch(a.n2, "timed")
            # time inside the workers per mask (generation and PNG encoding), over all of the run's masks
            inside = sum(int(c) * float(t) for _, c, t in per_worker) / sum(int(c) for _, c, _ in per_worker)
            results[k] = (1 / rate, rate, inside)
            print("%d worker(s): %d masks, %.1f s from start to exit, %.2f masks/s from queueing to the last output (%.3f s per mask); "
                  "%.3f s per mask inside a worker; per worker: %s"
                  % (k, a.n2, wall, rate, 1 / rate, inside, ", ".join("%s %s masks" % (w, c) for w, c, _ in per_worker)))
        finally:
            for w in workers:
                w.terminate()
            for w in workers:
                w.wait(timeout=60)
    print("overhead per job, 1 worker vs single node: %+.3f s (%.2fx the single node's time per mask)"
          % (results[1][0] - local_slope, results[1][0] / local_slope))
    print("overhead per job of the cluster itself, 1 worker (time per mask minus the time inside the worker): %+.3f s"
          % (results[1][0] - results[1][2]))
    for k in (2, 3):
        print("speed-up of %d workers over 1: %.2fx" % (k, results[1][0] / results[k][0]))
    print("load after: %s" % open("/proc/loadavg").read().strip())
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
