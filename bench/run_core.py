#!/usr/bin/python3
"""d2l-cpp vs the book's Python (bench/reference/book_train.py), side by side in one run.

  bench/run_core.py [--build build] [--epochs 2] [--models softmax,mlp,lenet] [--blas both]
                    [--json out.json]

For each BLAS setting (OpenBLAS as Debian picks its kernels, and OPENBLAS_CORETYPE=SkylakeX),
runs: the loader (one epoch of Fashion-MNIST training data, 28x28 and resized to 96x96) and
train_ch6 examples/sec of each model, each side in its own process, alternating. Prints a
Markdown table with the ratios (d2l-cpp / Python) and writes the raw figures as JSON.
"""
import argparse
import json
import os
import tempfile
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)


def run_json(cmd, env):
    """Runs cmd, returns (last JSON line, peak RSS in MiB of the process, wall seconds).

    The peak is GNU time's maximum resident set size of the command itself (for the Python side,
    its main process: the DataLoader's workers come on top)."""
    t = time.time()
    with tempfile.NamedTemporaryFile("r") as rss:
        p = subprocess.run(["/usr/bin/time", "-o", rss.name, "-f", "%M"] + cmd, env=env,
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        wall = time.time() - t
        if p.returncode != 0:
            sys.exit(f"{' '.join(cmd)} failed ({p.returncode}):\n{p.stderr[-2000:]}")
        peak_kib = float(rss.read().strip().splitlines()[-1])
    text = p.stdout.strip()
    start = text.rfind("\n{")  # the last JSON object (d2l prints a multi-line one)
    doc = json.loads(text[start + 1:] if start >= 0 else text)
    return doc, peak_kib / 1024.0, wall


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--build", default=os.path.join(ROOT, "build"))
    ap.add_argument("--epochs", type=int, default=2)
    ap.add_argument("--models", default="softmax,mlp,lenet")
    ap.add_argument("--blas", choices=["default", "skylakex", "both"], default="both")
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--json", default=None)
    a = ap.parse_args()
    d2l = os.path.join(a.build, "bin", "d2l")
    loader = os.path.join(a.build, "bin", "loader_bench")
    ref = ["/usr/bin/python3",  # Debian's, with python3-torch and python3-torchvision
           os.path.join(HERE, "reference", "book_train.py")]
    settings = {"default": {}, "skylakex": {"OPENBLAS_CORETYPE": "SkylakeX"}}
    chosen = ["default", "skylakex"] if a.blas == "both" else [a.blas]
    results = []
    rows = []
    for s in chosen:
        env = dict(os.environ)
        env.pop("OPENBLAS_CORETYPE", None)
        env.update(settings[s])
        for resize in (28, 96):
            extra = [] if resize == 28 else ["--resize", str(resize)]
            ours, _, _ = run_json([loader, "--epochs", "2"] + extra, env)
            py, _, _ = run_json(ref + ["--loader-only"] + extra, env)
            results += [dict(ours, blas=s), dict(py, blas=s)]
            rows.append((s, f"loader {resize}x{resize} (images/s)", ours["images_per_sec"], py["images_per_sec"]))
        for m in a.models.split(","):
            ours, rss, wall = run_json([d2l, "train", m, "--epochs", str(a.epochs), "--json", "--no-chart",
                                        "--device", a.device, "--out", f"/tmp/d2l-bench-{m}"], env)
            py, prss, pwall = run_json(ref + ["--model", m, "--epochs", str(a.epochs), "--device", a.device], env)
            ours.pop("points", None)
            results += [dict(ours, side="d2l-cpp", blas=s, peak_rss_mib=rss, wall=wall),
                        dict(py, blas=s, peak_rss_mib=prss, wall=pwall)]
            rows.append((s, f"{m} train_ch6 (examples/s)", ours["examples_per_sec"], py["examples_per_sec"]))
            rows.append((s, f"{m} test acc after {a.epochs} epochs", ours["test_acc"], py["test_acc"]))
            rows.append((s, f"{m} process start to first batch (s)", ours["first_batch_seconds"],
                         py["first_batch_seconds"]))
            if rss:
                rows.append((s, f"{m} peak memory (MiB)", rss, prss or float("nan")))
    print(f"| BLAS | measure | d2l-cpp | Python | ratio |")
    print(f"|---|---|---:|---:|---:|")
    for s, what, o, p in rows:
        ratio = o / p if p else float("nan")
        print(f"| {s} | {what} | {o:,.3f} | {p:,.3f} | {ratio:.2f}x |" if o < 10 else
              f"| {s} | {what} | {o:,.0f} | {p:,.0f} | {ratio:.2f}x |")
    if a.json:
        with open(a.json + ".tmp", "w") as f:
            json.dump(results, f, indent=1)
        os.replace(a.json + ".tmp", a.json)


if __name__ == "__main__":
    main()
