#!/usr/bin/python3
"""The benchmark models in PyTorch, timed the way `./model bench` times NNL's (runtime/
bench.c): synthetic data made once, --warmup steps, then the median samples/s of --repeat
runs of --steps optimizer steps, and the median batch-1 forward latency (inference mode)
of --repeat runs of --calls forwards. Prints one line in bench.c's format.
Usage: torch_bench.py MODEL [--threads T] [--batch B] [--steps N] [--repeat R]
MODEL: cnn, mlp, tiny_bce, tiny_mse, lstm, gpt, resnet. Run it as ../shared/BENCHMARKING.md says (tcmalloc,
OpenMP OpenBLAS, OPENBLAS_CORETYPE unset): bench/run.sh does."""
import argparse, resource, statistics, time
import torch
import torch.nn as nn

def cnn():
    m = nn.Sequential(nn.Conv2d(1, 32, 3), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
                      nn.Linear(32 * 13 * 13, 10))
    return m, (1, 28, 28), "classes", 10, torch.optim.Adam(m.parameters(), lr=1e-3, eps=1e-7), 64

def mlp():
    m = nn.Sequential(nn.Linear(784, 512), nn.ReLU(), nn.Linear(512, 512), nn.ReLU(),
                      nn.Linear(512, 10))
    return m, (784,), "classes", 10, torch.optim.SGD(m.parameters(), lr=0.01, momentum=0.9), 128

def tiny(loss, batch):
    layers = [nn.Linear(2, 10), nn.ReLU(), nn.Linear(10, 1)]
    m = nn.Sequential(*layers)
    return m, (2,), loss, 1, torch.optim.Adam(m.parameters(), lr=1e-3), batch

class LstmClassifier(nn.Module):
    """examples/text_lstm.nnl: Embedding(10000, 256) -> LSTM(128) -> last step -> Dense(2)."""
    def __init__(self):
        super().__init__()
        self.emb = nn.Embedding(10000, 256)
        self.lstm = nn.LSTM(256, 128, batch_first=True)
        self.out = nn.Linear(128, 2)

    def forward(self, x):
        h, _ = self.lstm(self.emb(x))
        return self.out(h[:, -1])

class CharGpt(nn.Module):
    """examples/char_gpt.nnl: token + learned position embeddings, 4 pre-norm blocks (4
    heads, width 128, causal, GELU MLP 512), a final layer norm, a linear head over 96."""
    def __init__(self, vocab=96, width=128, context=64, layers=4, heads=4):
        super().__init__()
        self.tok = nn.Embedding(vocab, width)
        self.pos = nn.Parameter(torch.randn(context, width) * 0.02)
        block = lambda: nn.TransformerEncoderLayer(width, heads, 4 * width, dropout=0.0,
                                                   activation="gelu", batch_first=True,
                                                   norm_first=True)
        self.blocks = nn.ModuleList(block() for _ in range(layers))
        self.norm = nn.LayerNorm(width)
        self.head = nn.Linear(width, vocab)
        self.register_buffer("mask", torch.triu(torch.full((context, context), float("-inf")), 1))

    def forward(self, x):
        h = self.tok(x) + self.pos[: x.shape[1]]
        for b in self.blocks:
            h = b(h, src_mask=self.mask)
        return self.head(self.norm(h))

class Residual(nn.Module):
    """stdlib/nn.nnl's ResidualBlock (down=False) and DownBlock (down=True)."""
    def __init__(self, cin, cout, down):
        super().__init__()
        s = 2 if down else 1
        self.body = nn.Sequential(nn.Conv2d(cin, cout, 3, s, 1), nn.BatchNorm2d(cout), nn.ReLU(),
                                  nn.Conv2d(cout, cout, 3, 1, 1), nn.BatchNorm2d(cout))
        self.proj = nn.Sequential(nn.Conv2d(cin, cout, 1, 2), nn.BatchNorm2d(cout)) if down else None

    def forward(self, x):
        return torch.relu((self.proj(x) if self.proj is not None else x) + self.body(x))

def resnet():
    """examples/resnet_small.nnl: stem conv 16 + BN + ReLU, residual stages of 16, 32, 64
    channels (28, 14, 7 pixels), global average pooling, Dense(10); AdamW, batch 128."""
    m = nn.Sequential(nn.Conv2d(1, 16, 3, 1, 1), nn.BatchNorm2d(16), nn.ReLU(),
                      Residual(16, 16, False), Residual(16, 16, False),
                      Residual(16, 32, True), Residual(32, 32, False),
                      Residual(32, 64, True), Residual(64, 64, False),
                      nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(64, 10))
    return m, (1, 28, 28), "classes", 10, torch.optim.AdamW(m.parameters(), lr=2e-3, weight_decay=1e-4), 128

def lstm():
    m = LstmClassifier()
    return m, (64,), "tokens", 2, torch.optim.Adam(m.parameters(), lr=1e-3), 32

def gpt():
    m = CharGpt()
    opt = torch.optim.AdamW(m.parameters(), lr=1e-3, weight_decay=0.01)
    return m, (64,), "next_tokens", 96, opt, 32

MODELS = {"cnn": cnn, "mlp": mlp, "tiny_bce": lambda: tiny("bce", 100),
          "tiny_mse": lambda: tiny("mse", 32), "lstm": lstm, "gpt": gpt, "resnet": resnet}
VOCAB = {"lstm": 10000, "gpt": 96}

def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("model", choices=sorted(MODELS))
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--batch", type=int, default=0)
    ap.add_argument("--steps", type=int, default=50)
    ap.add_argument("--repeat", type=int, default=7)
    ap.add_argument("--warmup", type=int, default=10)
    ap.add_argument("--calls", type=int, default=200)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(1)
    model, shape, kind, classes, opt, batch = MODELS[a.model]()
    batch = a.batch or batch
    x = torch.rand(batch, *shape)
    clip = 0.0
    if kind in ("tokens", "next_tokens"):
        x = torch.randint(0, VOCAB[a.model], (batch, *shape))
    if kind == "tokens":
        y = torch.randint(0, classes, (batch,))
        lossf = nn.functional.cross_entropy
    elif kind == "next_tokens":   # a label per position; gradients clipped to norm 1
        y = torch.randint(0, classes, (batch, *shape))
        lossf = lambda out, y: nn.functional.cross_entropy(out.reshape(-1, classes), y.reshape(-1))
        clip = 1.0
    elif kind == "classes":
        y = torch.randint(0, classes, (batch,))
        lossf = nn.functional.cross_entropy
    elif kind == "bce":
        y = torch.randint(0, 2, (batch, 1)).float()
        lossf = nn.functional.binary_cross_entropy_with_logits   # sigmoid + BCE, fused
    else:
        y = torch.rand(batch, 1)
        lossf = nn.functional.mse_loss

    def step():
        opt.zero_grad(set_to_none=True)
        loss = lossf(model(x), y)
        loss.backward()
        if clip: nn.utils.clip_grad_norm_(model.parameters(), clip)
        opt.step()
        return loss

    for _ in range(a.warmup): step()
    rates = []
    for _ in range(a.repeat):
        t0 = time.perf_counter()
        for _ in range(a.steps): loss = step()
        rates.append(a.steps * batch / (time.perf_counter() - t0))
    x1 = x[:1].clone()
    lat = []
    with torch.inference_mode():
        for _ in range(a.warmup): model(x1)
        for _ in range(a.repeat):
            t0 = time.perf_counter()
            for _ in range(a.calls): model(x1)
            lat.append((time.perf_counter() - t0) * 1e6 / a.calls)
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(f"model {a.model} batch {batch} threads {a.threads} train_samples_per_s "
          f"{statistics.median(rates):.1f} forward_b1_us {statistics.median(lat):.2f} "
          f"train_page_faults -1 max_rss_kb {rss} loss {loss.item():.6g}")

if __name__ == "__main__":
    main()
