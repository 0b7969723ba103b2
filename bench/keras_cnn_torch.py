#!/usr/bin/python3
"""The Keras MNIST convnet of examples/mnist_cnn.nnl in PyTorch, initialized the Keras
way (glorot_uniform kernels, zero biases; Adam lr 1e-3, eps 1e-7; batch 64; shuffled;
5 epochs), to compare accuracies with NNL's. Usage: keras_cnn_torch.py DIR [SEED]
with DIR holding {train,t10k}-{images-idx3,labels-idx1}-ubyte[.gz]."""
import gzip, os, sys, time
import numpy as np
import torch

def idx(path):
    if not os.path.exists(path): path += ".gz"
    raw = (gzip.open if path.endswith(".gz") else open)(path, "rb").read()
    dims = raw[3]
    shape = [int.from_bytes(raw[4 + 4 * i: 8 + 4 * i], "big") for i in range(dims)]
    return np.frombuffer(raw, np.uint8, offset=4 + 4 * dims).reshape(shape)

d, seed = sys.argv[1], int(sys.argv[2]) if len(sys.argv) > 2 else 1
torch.manual_seed(seed)
torch.set_num_threads(int(os.environ.get("THREADS", "2")))
xs = torch.tensor(idx(f"{d}/train-images-idx3-ubyte") / 255.0, dtype=torch.float32).unsqueeze(1)
ys = torch.tensor(idx(f"{d}/train-labels-idx1-ubyte"), dtype=torch.long)
xt = torch.tensor(idx(f"{d}/t10k-images-idx3-ubyte") / 255.0, dtype=torch.float32).unsqueeze(1)
yt = torch.tensor(idx(f"{d}/t10k-labels-idx1-ubyte"), dtype=torch.long)
model = torch.nn.Sequential(torch.nn.Conv2d(1, 32, 3), torch.nn.ReLU(), torch.nn.MaxPool2d(2),
                            torch.nn.Flatten(), torch.nn.Linear(32 * 13 * 13, 10))
for m in model:
    if hasattr(m, "weight"):
        torch.nn.init.xavier_uniform_(m.weight)
        torch.nn.init.zeros_(m.bias)
opt = torch.optim.Adam(model.parameters(), lr=1e-3, eps=1e-7)
for epoch in range(5):
    t0 = time.time()
    perm = torch.randperm(len(xs))
    for i in range(0, len(xs), 64):
        b = perm[i:i + 64]
        opt.zero_grad()
        torch.nn.functional.cross_entropy(model(xs[b]), ys[b]).backward()
        opt.step()
    with torch.no_grad():
        acc = (model(xt).argmax(1) == yt).float().mean().item()
    print(f"epoch {epoch + 1}/5  test_accuracy {acc:.4f}  ({time.time() - t0:.1f} s)", flush=True)
