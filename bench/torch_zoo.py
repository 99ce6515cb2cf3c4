#!/usr/bin/python3
"""torch_zoo.py -- PyTorch training/inference throughput for a zoo of CPU networks (one JSON line).

  /usr/bin/python3 torch_zoo.py --model cifar|resnet20|mobilenet|textcnn|mlp|lstm --batch 128 --threads 1 [--mode train|infer]
                                [--channels-last] [--bf16] [--steps 10 --chunks 5 --warmup 5]

Needs Debian's python3-torch and libopenblas0-pthread. Tuned as an expert would: torch.set_num_threads(T), OpenBLAS
held to one thread. OpenBLAS 0.3.21 may misdetect a new CPU (openblas_get_corename() says 'Prescott' on Intel
Sapphire/Emerald Rapids): then run this script with OPENBLAS_CORETYPE=SKYLAKEX (or the CPU's family), or torch's
Linear layers run 5x slower than they can. --bf16 = torch.autocast('cpu', bfloat16), which uses AMX tiles via
oneDNN where the CPU has them. Synthetic data, SGD(momentum 0.9), cross-entropy.
Architectures: cifar = Keras' cifar10_cnn; resnet20 = He et al.'s CIFAR ResNet-20 (BN, 1x1 stride-2 projection
shortcuts); mobilenet = MobileNet-v1-style (3x3 stem, 5 depthwise-separable blocks 64,128/2,128,256/2,256 with BN+ReLU,
global average pooling); textcnn = Embedding(20000,128) on 200 tokens, Conv1D(128,5)+MaxPool1D(5) twice,
Conv1D(128,5), global max pooling, Dense(128), Dense(10); mlp = 784-512-512-10; lstm = nn.LSTM(64, 256) over 100
steps, Linear(256, 10) on the last step (tapegrad's copy of ../shared/bench/torch_zoo.py, with the lstm added)."""
import argparse, json, os, resource, statistics, sys, time
p = argparse.ArgumentParser()
p.add_argument('--model', default='resnet20'); p.add_argument('--batch', type=int, default=128)
p.add_argument('--threads', type=int, default=2); p.add_argument('--mode', default='train')
p.add_argument('--steps', type=int, default=10); p.add_argument('--chunks', type=int, default=5)
p.add_argument('--warmup', type=int, default=5); p.add_argument('--channels-last', action='store_true')
p.add_argument('--bf16', action='store_true', help='torch.autocast(cpu, bfloat16): oneDNN uses AMX tiles where the CPU has them')
a = p.parse_args()
os.environ['OMP_NUM_THREADS'] = str(a.threads); os.environ['OPENBLAS_NUM_THREADS'] = '1'
import torch, torch.nn as nn, torch.nn.functional as F
torch.set_num_threads(a.threads); torch.manual_seed(0)

class Block(nn.Module):
    def __init__(s, i, f, st):
        super().__init__()
        s.c1 = nn.Conv2d(i, f, 3, st, 1, bias=False); s.b1 = nn.BatchNorm2d(f)
        s.c2 = nn.Conv2d(f, f, 3, 1, 1, bias=False); s.b2 = nn.BatchNorm2d(f)
        s.p = nn.Sequential(nn.Conv2d(i, f, 1, st, bias=False), nn.BatchNorm2d(f)) if st != 1 else None
    def forward(s, x):
        y = F.relu(s.b1(s.c1(x))); y = s.b2(s.c2(y))
        return F.relu(y + (s.p(x) if s.p is not None else x))

def cifar():
    return nn.Sequential(nn.Conv2d(3, 32, 3, padding=1), nn.ReLU(), nn.Conv2d(32, 32, 3), nn.ReLU(), nn.MaxPool2d(2), nn.Dropout(0.25),
        nn.Conv2d(32, 64, 3, padding=1), nn.ReLU(), nn.Conv2d(64, 64, 3), nn.ReLU(), nn.MaxPool2d(2), nn.Dropout(0.25), nn.Flatten(),
        nn.Linear(2304, 512), nn.ReLU(), nn.Dropout(0.5), nn.Linear(512, 10))

def resnet20():
    layers = [nn.Conv2d(3, 16, 3, 1, 1, bias=False), nn.BatchNorm2d(16), nn.ReLU()]
    i = 16
    for f in (16, 32, 64):
        for b in range(3):
            layers.append(Block(i, f, 2 if (b == 0 and f != 16) else 1)); i = f
    return nn.Sequential(*layers, nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(64, 10))

def mobilenet():
    # Keras 'same' with stride 2 on even sizes pads (0,1); torch pads symmetric 1: same cost, same output size.
    layers = [nn.Conv2d(3, 32, 3, 1, 1, bias=False), nn.BatchNorm2d(32), nn.ReLU()]
    f = 32
    for nf, s in ((64, 1), (128, 2), (128, 1), (256, 2), (256, 1)):
        layers += [nn.Conv2d(f, f, 3, s, 1, groups=f, bias=False), nn.BatchNorm2d(f), nn.ReLU(),
                   nn.Conv2d(f, nf, 1, bias=False), nn.BatchNorm2d(nf), nn.ReLU()]
        f = nf
    return nn.Sequential(*layers, nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(f, 10))

class TextCnn(nn.Module):
    def __init__(s):
        super().__init__()
        s.e = nn.Embedding(20000, 128)
        s.c1 = nn.Conv1d(128, 128, 5); s.c2 = nn.Conv1d(128, 128, 5); s.c3 = nn.Conv1d(128, 128, 5)
        s.d1 = nn.Linear(128, 128); s.d2 = nn.Linear(128, 10)
    def forward(s, x):
        h = s.e(x).transpose(1, 2)
        h = F.max_pool1d(F.relu(s.c1(h)), 5); h = F.max_pool1d(F.relu(s.c2(h)), 5); h = F.relu(s.c3(h))
        return s.d2(F.relu(s.d1(h.amax(dim=2))))

def mlp():
    return nn.Sequential(nn.Linear(784, 512), nn.ReLU(), nn.Linear(512, 512), nn.ReLU(), nn.Linear(512, 10))

class Lstm(nn.Module):
    def __init__(s):
        super().__init__()
        s.l = nn.LSTM(64, 256, batch_first=True); s.d = nn.Linear(256, 10)
    def forward(s, x):
        return s.d(s.l(x)[0][:, -1, :])

net = {'cifar': cifar, 'resnet20': resnet20, 'mobilenet': mobilenet, 'textcnn': TextCnn, 'mlp': mlp, 'lstm': Lstm}[a.model]()
if a.model == 'textcnn':
    x = torch.randint(0, 20000, (a.batch, 200))
elif a.model == 'mlp':
    x = torch.randn(a.batch, 784)
elif a.model == 'lstm':
    x = torch.randn(a.batch, 100, 64)
else:
    x = torch.randn(a.batch, 3, 32, 32)
    if a.channels_last: net = net.to(memory_format=torch.channels_last); x = x.contiguous(memory_format=torch.channels_last)
y = torch.randint(0, 10, (a.batch,))
opt = torch.optim.SGD(net.parameters(), lr=0.01, momentum=0.9)
def step():
    if a.mode == 'infer':
        with torch.no_grad(), torch.autocast('cpu', dtype=torch.bfloat16, enabled=a.bf16): net(x)
        return
    opt.zero_grad(set_to_none=True)
    with torch.autocast('cpu', dtype=torch.bfloat16, enabled=a.bf16):
        loss = F.cross_entropy(net(x), y)
    loss.backward(); opt.step()
net.train(a.mode == 'train')
for _ in range(a.warmup): step()
r = []
for _ in range(a.chunks):
    t0 = time.perf_counter()
    for _ in range(a.steps): step()
    r.append(a.steps * a.batch / (time.perf_counter() - t0))
print(json.dumps(dict(framework='torch' + ('-bf16' if a.bf16 else '') + ('-cl' if a.channels_last and a.model in ('cifar', 'resnet20', 'mobilenet') else ''), model=a.model, mode=a.mode, batch=a.batch, threads=a.threads,
                      median_img_s=round(statistics.median(r), 1), peak_rss_mib=round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
                      params=sum(p.numel() for p in net.parameters()))))
