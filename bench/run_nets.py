#!/usr/bin/python3
"""One training step of the book's chapter-8 networks: d2l-cpp vs the book's Python, one run.

  bench/run_nets.py [--build build] [--models alexnet,vgg,...] [--batch-size 128]
                    [--rounds 2] [--repeats 3] [--threads 1,2] [--json out.json]

Both sides run the same LibTorch 1.13 kernels (Debian's libtorch and python3-torch), so the
step times should agree within noise; what differs is the code around the kernels. For each
model and thread count, runs `d2l bench train MODEL` and bench/reference/book_nets.py, each in
its own process, alternating, `--rounds` times (warm-up step, then `--repeats` timed steps,
median), and prints a Markdown table: the median of the rounds' medians for each side and the
ratio (Python step time / d2l-cpp step time: above 1 means d2l-cpp is faster), with d2l-cpp's
split of the step into forward, backward and optimiser step.
"""
import argparse
import json
import os
import statistics
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
BOOK_SIZES = {"alexnet": 224, "vgg": 224, "nin": 224, "googlenet": 96, "bn-lenet": 28,
              "resnet": 96, "densenet": 96}


def last_json(text):
    start = text.rfind("\n{")
    return json.loads(text[start + 1:] if start >= 0 else text)


def run(cmd):
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    if p.returncode != 0:
        sys.exit(f"{' '.join(cmd)} failed ({p.returncode}):\n{p.stderr[-2000:]}")
    return last_json(p.stdout.strip())


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--build", default=os.path.join(ROOT, "build"))
    ap.add_argument("--models", default=",".join(BOOK_SIZES))
    ap.add_argument("--batch-size", type=int, default=128)
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--threads", default="1", help="comma-separated LibTorch thread counts")
    ap.add_argument("--json", default=None)
    args = ap.parse_args()
    d2l = os.path.join(args.build, "bin", "d2l")
    ref = os.path.join(HERE, "reference", "book_nets.py")
    rows = []
    for threads in [int(t) for t in args.threads.split(",")]:
        for model in args.models.split(","):
            size = BOOK_SIZES[model]
            cpp, py, phases = [], [], []
            for _ in range(args.rounds):
                c = run([d2l, "bench", "train", model, "--batch-size", str(args.batch_size),
                         "--resize", str(size), "--threads", str(threads), "--warmup", "1",
                         "--repeats", str(args.repeats), "--json"])
                cpp.append(c["median_seconds"])
                phases.append(c["phases_median_seconds"])
                p = run(["/usr/bin/python3", ref, "--model", model, "--batch-size",
                         str(args.batch_size), "--resize", str(size), "--threads", str(threads),
                         "--warmup", "1", "--repeats", str(args.repeats)])
                py.append(p["median_seconds"])
            c_med, p_med = statistics.median(cpp), statistics.median(py)
            ph = {k: statistics.median([x[k] for x in phases]) for k in phases[0]}
            rows.append({"model": model, "resize": size, "batch_size": args.batch_size,
                         "threads": threads, "d2l_cpp_seconds": c_med, "python_seconds": p_med,
                         "ratio": p_med / c_med, "d2l_cpp_rounds": cpp, "python_rounds": py,
                         "d2l_cpp_phases": ph})
            print(f"{model} x{threads}: d2l-cpp {c_med:.3f}s, Python {p_med:.3f}s, "
                  f"ratio {p_med / c_med:.3f}", file=sys.stderr, flush=True)
    print("| model | input | threads | d2l-cpp step | Python step | ratio | forward / backward / "
          "step (d2l-cpp) |")
    print("|---|---|---:|---:|---:|---:|---|")
    for r in rows:
        ph = r["d2l_cpp_phases"]
        total = sum(ph.values()) or 1
        print(f"| {r['model']} | {r['batch_size']}x1x{r['resize']}x{r['resize']} | "
              f"{r['threads']} | {r['d2l_cpp_seconds']:.3f} s | {r['python_seconds']:.3f} s | "
              f"**{r['ratio']:.2f}** | {100 * ph['forward'] / total:.0f}% / "
              f"{100 * ph['backward'] / total:.0f}% / {100 * ph['step'] / total:.0f}% |")
    if args.json:
        with open(args.json + ".tmp", "w") as f:
            json.dump(rows, f, indent=2)
        os.replace(args.json + ".tmp", args.json)


if __name__ == "__main__":
    main()
