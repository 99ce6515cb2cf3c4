#!/usr/bin/python3
"""Runs tapegrad's bench_train and PyTorch's ../shared/bench/torch_cifar_cnn.py alternately, several
times per configuration, in one command, and prints each figure's median and the ratio.

  /usr/bin/python3 bench/compare_torch.py [--reps 3] [--build build] [--configs all|quick]

Needs Debian's python3-torch and OpenBLAS as the system BLAS (apt-get install python3-torch
libopenblas0-pthread): without libopenblas0-pthread, torch's Linear layers run on the reference
BLAS (libblas3) and PyTorch looks many times slower than it is. Needs a build with bench_train.
PyTorch runs as an expert would tune it: torch.set_num_threads(T) and its BLAS held to one thread
(--blas-threads 1), so its two thread pools do not fight. OPENBLAS_CORETYPE is left as the machine
sets it.
"""
import argparse
import json
import os
import statistics
import subprocess
import sys

here = os.path.dirname(os.path.abspath(__file__))
root = os.path.dirname(here)
p = argparse.ArgumentParser()
p.add_argument('--reps', type=int, default=3)
p.add_argument('--build', default=os.path.join(root, 'build'))
p.add_argument('--torch-script', default=os.path.join(root, '..', 'shared', 'bench', 'torch_cifar_cnn.py'))
p.add_argument('--configs', choices=['all', 'quick'], default='all')
args = p.parse_args()

# (label, model, mode, batch, threads)
configs = [
    ('train b128 t1', 'cnn', 'train', 128, 1),
    ('train b128 t2', 'cnn', 'train', 128, 2),
    ('train b32 t1', 'cnn', 'train', 32, 1),
    ('train b32 t2', 'cnn', 'train', 32, 2),
    ('infer b128 t2', 'cnn', 'infer', 128, 2),
    ('mlp train b128 t1', 'mlp', 'train', 128, 1),
]
if args.configs == 'quick':
    configs = configs[:2]


def last_json(out):
    for line in reversed(out.splitlines()):
        line = line.strip()
        if line.startswith('{'):
            return json.loads(line)
    raise RuntimeError('no JSON line in output:\n' + out)


def run(cmd):
    r = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    if r.returncode != 0:
        raise RuntimeError(' '.join(cmd) + ' failed:\n' + r.stdout)
    return last_json(r.stdout)


results = {c[0]: {'tapegrad': [], 'torch': [], 'tapegrad_rss': [], 'torch_rss': []} for c in configs}
for rep in range(args.reps):
    for label, model, mode, batch, threads in configs:
        ours = run([os.path.join(args.build, 'bench', 'bench_train'), '--model', model, '--mode', mode,
                    '--batch', str(batch), '--threads', str(threads)])
        theirs = run(['/usr/bin/python3', args.torch_script, '--model', model, '--mode', mode, '--batch', str(batch),
                      '--threads', str(threads), '--blas-threads', '1'])
        r = results[label]
        r['tapegrad'].append(ours['median_img_s'])
        r['torch'].append(theirs['median_img_s'])
        r['tapegrad_rss'].append(ours['peak_rss_mib'])
        r['torch_rss'].append(theirs['peak_rss_mib'])
        print(f'rep {rep + 1} {label}: tapegrad {ours["median_img_s"]:.0f} img/s, torch {theirs["median_img_s"]:.0f} img/s',
              file=sys.stderr, flush=True)

print(f'| config | tapegrad img/s | PyTorch img/s | ratio | tapegrad RSS MiB | PyTorch RSS MiB |')
print('| --- | --- | --- | --- | --- | --- |')
for label, *_ in configs:
    r = results[label]
    a, b = statistics.median(r['tapegrad']), statistics.median(r['torch'])
    print(f'| {label} | {a:.0f} ({min(r["tapegrad"]):.0f}..{max(r["tapegrad"]):.0f}) | {b:.0f} ({min(r["torch"]):.0f}..{max(r["torch"]):.0f}) '
          f'| {a / b:.2f} | {statistics.median(r["tapegrad_rss"]):.0f} | {statistics.median(r["torch_rss"]):.0f} |')
