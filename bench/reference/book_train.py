#!/usr/bin/python3
"""The Python reference for d2l-cpp's benchmarks: the book's own procedure on PyTorch.

torchvision's FashionMNIST with ToTensor (and Resize), a DataLoader with 4 workers, and the
book's train_ch6 loop (Xavier init, SGD, cross-entropy, the Timer around each training step,
examples/sec = examples * epochs / timer.sum()). Run with Debian's python3-torch and
python3-torchvision (the same LibTorch 1.13 as d2l-cpp links).

  bench/reference/book_train.py --model lenet --epochs 2          # training
  bench/reference/book_train.py --loader-only --resize 96         # one epoch of the loader

Prints one JSON object on the last line.
"""
import argparse
import gzip
import json
import os
import shutil
import sys
import tempfile
import time

T0 = time.time()

import torch  # noqa: E402
import torchvision  # noqa: E402
from torch import nn  # noqa: E402
from torch.utils import data  # noqa: E402
from torchvision import transforms  # noqa: E402

FILES = ["train-images-idx3-ubyte", "train-labels-idx1-ubyte",
         "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"]


def prepare_root(src):
    """torchvision wants ROOT/FashionMNIST/raw/<file> un-gzipped: build it once in a cache."""
    root = os.path.join(tempfile.gettempdir(), "d2l-reference-data")
    raw = os.path.join(root, "FashionMNIST", "raw")
    os.makedirs(raw, exist_ok=True)
    for f in FILES:
        dst = os.path.join(raw, f)
        if os.path.exists(dst):
            continue
        gz = os.path.join(src, f + ".gz")
        with (gzip.open(gz) if os.path.exists(gz) else open(os.path.join(src, f), "rb")) as i, \
                open(dst + ".tmp", "wb") as o:
            shutil.copyfileobj(i, o)
        os.rename(dst + ".tmp", dst)
    return root


def load_data_fashion_mnist(root, batch_size, resize=None, workers=4):
    """The book's d2l.load_data_fashion_mnist."""
    trans = [transforms.ToTensor()]
    if resize:
        trans.insert(0, transforms.Resize(resize))
    trans = transforms.Compose(trans)
    train = torchvision.datasets.FashionMNIST(root=root, train=True, transform=trans, download=False)
    test = torchvision.datasets.FashionMNIST(root=root, train=False, transform=trans, download=False)
    return (data.DataLoader(train, batch_size, shuffle=True, num_workers=workers),
            data.DataLoader(test, batch_size, shuffle=False, num_workers=workers))


def net_of(name):
    if name == "lenet":
        return nn.Sequential(
            nn.Conv2d(1, 6, kernel_size=5, padding=2), nn.Sigmoid(),
            nn.AvgPool2d(kernel_size=2, stride=2),
            nn.Conv2d(6, 16, kernel_size=5), nn.Sigmoid(),
            nn.AvgPool2d(kernel_size=2, stride=2),
            nn.Flatten(),
            nn.Linear(16 * 5 * 5, 120), nn.Sigmoid(),
            nn.Linear(120, 84), nn.Sigmoid(),
            nn.Linear(84, 10))
    if name == "mlp":
        return nn.Sequential(nn.Flatten(), nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, 10))
    if name == "softmax":
        return nn.Sequential(nn.Flatten(), nn.Linear(784, 10))
    # The chapter-8 networks, from the same file as the step benchmark.
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    import book_nets  # noqa: E402
    if name in book_nets.NETS:
        return book_nets.NETS[name][0]()
    raise SystemExit(f"unknown model {name}")


def book_resize(name):
    """The book's input size for a chapter-8 network (None: the data set's 28)."""
    if name in ("lenet", "mlp", "softmax"):
        return None
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    import book_nets  # noqa: E402
    size = book_nets.NETS[name][1] if name in book_nets.NETS else 28
    return None if size == 28 else size


class Timer:
    def __init__(self):
        self.times = []
        self.start()

    def start(self):
        self.tik = time.time()

    def stop(self):
        self.times.append(time.time() - self.tik)
        return self.times[-1]

    def sum(self):
        return sum(self.times)


def accuracy(y_hat, y):
    if len(y_hat.shape) > 1 and y_hat.shape[1] > 1:
        y_hat = y_hat.argmax(axis=1)
    return float((y_hat.type(y.dtype) == y).type(y.dtype).sum())


def evaluate_accuracy_gpu(net, data_iter, device):
    net.eval()
    correct, total = 0.0, 0
    with torch.no_grad():
        for X, y in data_iter:
            X, y = X.to(device), y.to(device)
            correct += accuracy(net(X), y)
            total += y.numel()
    return correct / total


def train_ch6(net, train_iter, test_iter, num_epochs, lr, device, first_batch, max_batches=0):
    """The book's train_ch6, without the Animator (which costs 0.55-0.7 s an epoch)."""
    def init_weights(m):
        if type(m) == nn.Linear or type(m) == nn.Conv2d:
            nn.init.xavier_uniform_(m.weight)
    net.apply(init_weights)
    print('training on', device)
    net.to(device)
    optimizer = torch.optim.SGD(net.parameters(), lr=lr)
    loss = nn.CrossEntropyLoss()
    timer, num_batches = Timer(), len(train_iter)
    for epoch in range(num_epochs):
        metric = [0.0, 0.0, 0]
        net.train()
        for i, (X, y) in enumerate(train_iter):
            if max_batches and i >= max_batches:
                break
            if first_batch[0] is None:
                first_batch[0] = time.time() - T0
            timer.start()
            optimizer.zero_grad()
            X, y = X.to(device), y.to(device)
            y_hat = net(X)
            l = loss(y_hat, y)
            l.backward()
            optimizer.step()
            with torch.no_grad():
                metric[0] += float(l) * X.shape[0]
                metric[1] += accuracy(y_hat, y)
                metric[2] += X.shape[0]
            timer.stop()
            train_l = metric[0] / metric[2]
            train_acc = metric[1] / metric[2]
        test_acc = evaluate_accuracy_gpu(net, test_iter, device)
        print(f'epoch {epoch + 1}: loss {train_l:.3f}, train acc {train_acc:.3f}, test acc {test_acc:.3f}',
              file=sys.stderr)
    eps = metric[2] * num_epochs / timer.sum()
    print(f'loss {train_l:.3f}, train acc {train_acc:.3f}, test acc {test_acc:.3f}')
    print(f'{eps:.1f} examples/sec on {str(device)}')
    return {"loss": train_l, "train_acc": train_acc, "test_acc": test_acc, "examples_per_sec": eps}


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--model", default="lenet")
    p.add_argument("--epochs", type=int, default=10)
    p.add_argument("--batch-size", type=int, default=256)
    p.add_argument("--lr", type=float, default=None)
    p.add_argument("--resize", type=int, default=None)
    p.add_argument("--workers", type=int, default=4)
    p.add_argument("--threads", type=int, default=None)
    p.add_argument("--device", default="cpu")
    p.add_argument("--data-dir", default=os.environ.get("D2L_DATA_DIR", "/usr/share/datasets/fashion-mnist"))
    p.add_argument("--loader-only", action="store_true")
    p.add_argument("--max-batches", type=int, default=0,
                   help="train on at most this many batches an epoch (speed runs; 0: all)")
    a = p.parse_args()
    if a.resize is None:
        a.resize = book_resize(a.model)
    if a.threads:
        torch.set_num_threads(a.threads)
    root = prepare_root(a.data_dir)
    train_iter, test_iter = load_data_fashion_mnist(root, a.batch_size, a.resize, a.workers)
    out = {"side": "python", "torch": torch.__version__, "threads": torch.get_num_threads(),
           "workers": a.workers, "openblas_coretype": os.environ.get("OPENBLAS_CORETYPE", "")}
    first_batch = [None]
    if a.loader_only:
        n, t = 0, time.time()
        for X, y in train_iter:
            if first_batch[0] is None:
                first_batch[0] = time.time() - T0
            n += X.shape[0]
        dt = time.time() - t
        out.update({"bench": "loader", "resize": a.resize or 28, "images": n, "seconds": dt,
                    "images_per_sec": n / dt})
    else:
        lr = a.lr or {"lenet": 0.9, "mlp": 0.1, "softmax": 0.1}.get(a.model, 0.01)
        res = train_ch6(net_of(a.model), train_iter, test_iter, a.epochs, lr, torch.device(a.device),
                        first_batch, a.max_batches)
        out.update({"bench": "train", "model": a.model, "epochs": a.epochs, **res})
    out["first_batch_seconds"] = first_batch[0]
    print(json.dumps(out))


if __name__ == "__main__":
    main()
