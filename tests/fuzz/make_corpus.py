#!/usr/bin/env python3
"""Writes the seed corpus of the fuzz targets: small valid and nearly valid files.

usage: tests/fuzz/make_corpus.py OUT_DIR   (makes OUT_DIR/{fuzz_idx,fuzz_cifar10,fuzz_gzip}/)
"""
import gzip
import os
import random
import struct
import sys


def idx(magic, dims, data):
    return struct.pack(">I", magic) + b"".join(struct.pack(">I", d) for d in dims) + bytes(data)


def main():
    out = sys.argv[1]
    rng = random.Random(1)
    seeds = {"fuzz_idx": {}, "fuzz_cifar10": {}, "fuzz_gzip": {}}
    img = idx(2051, [2, 4, 3], [rng.randrange(256) for _ in range(24)])
    lab = idx(2049, [5], [rng.randrange(10) for _ in range(5)])
    seeds["fuzz_idx"].update({
        "images": img,
        "labels": lab,
        "4d": idx(0x0804, [1, 2, 2, 2], range(8)),
        "truncated": img[:-3],
        "trailing": lab + b"\0",
        "zero_dim": idx(2051, [0, 28, 28], []),
        "header_only": struct.pack(">I", 2051),
    })
    rec = lambda label: bytes([label]) + bytes(rng.randrange(256) for _ in range(3072))
    seeds["fuzz_cifar10"].update({
        "one": rec(3),
        "two": rec(0) + rec(9),
        "bad_label": rec(10),
        "short": rec(1)[:100],
    })
    seeds["fuzz_gzip"].update({
        "plain_idx": lab,
        "gz_idx": gzip.compress(img, mtime=0),
        "gz_labels": gzip.compress(lab, mtime=0),
        "gz_truncated": gzip.compress(img, mtime=0)[:-6],
        "gz_two_members": gzip.compress(b"abc", mtime=0) + gzip.compress(b"defg", mtime=0),
        "gz_trailing": gzip.compress(lab, mtime=0) + b"xyz",
        "empty": b"",
    })
    for target, files in seeds.items():
        d = os.path.join(out, target)
        os.makedirs(d, exist_ok=True)
        for name, data in files.items():
            with open(os.path.join(d, name), "wb") as f:
                f.write(data)
    print(f"seed corpus in {out}: " + ", ".join(f"{t} {len(s)}" for t, s in seeds.items()))


if __name__ == "__main__":
    main()
