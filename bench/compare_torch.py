#!/usr/bin/python3
"""tapegrad against PyTorch at its best, per network, in one command: runs tapegrad's bench_train and every PyTorch
configuration an expert would try (bench/torch_zoo.py, a copy of ../shared/bench/torch_zoo.py with the LSTM added: fp32 NCHW, fp32 channels_last, bf16 autocast NCHW
and channels_last) alternately, several times, and prints medians, the winning PyTorch configuration, and tapegrad's
fp32 against PyTorch's best fp32 (and against its best overall). --mixed-precision adds tapegrad under Keras'
mixed_bfloat16 policy (bench_train --mixed-precision), against PyTorch's best overall and tapegrad's own fp32.

  /usr/bin/python3 bench/compare_torch.py [--reps 3] [--build build] [--models cnn,resnet20,mobilenet,textcnn,mlp]
                                          [--threads 1,2] [--batches 128,32] [--mode train|infer]
                                          [--quick] [--mixed-precision]

Needs Debian's python3-torch and OpenBLAS as the system BLAS (apt-get install python3-torch libopenblas0-pthread):
without libopenblas0-pthread, torch's Linear layers run on the reference BLAS (libblas3). Needs a build with
bench_train. PyTorch runs as an expert would tune it: torch.set_num_threads(T) and its BLAS held to one thread.
OpenBLAS 0.3.21 takes new Intel CPUs (Sapphire/Emerald Rapids) for a 'Prescott' and then runs torch's Linear layers
several times slower than it can: when openblas_get_corename() says so, this script sets OPENBLAS_CORETYPE=SKYLAKEX
for the PyTorch runs alone (tapegrad does not use OpenBLAS). Both sides train with SGD (momentum 0.9) on synthetic
data, cross-entropy, the same architectures (bench_train.cpp's twins of torch_zoo.py's networks).
"""
import argparse
import ctypes
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
p.add_argument('--zoo', default=os.path.join(root, 'bench', 'torch_zoo.py'))
p.add_argument('--models', default='cnn,resnet20,mobilenet,textcnn,mlp')
p.add_argument('--threads', default='1,2')
p.add_argument('--batches', default='128,32')
p.add_argument('--mode', choices=['train', 'infer'], default='train')
p.add_argument('--quick', action='store_true', help='fewer timed steps per run (noisier)')
p.add_argument('--mixed-precision', action='store_true', help="also tapegrad under the mixed_bfloat16 policy")
args = p.parse_args()

# tapegrad's model names -> torch_zoo.py's
torch_name = {'cnn': 'cifar', 'resnet20': 'resnet20', 'mobilenet': 'mobilenet', 'textcnn': 'textcnn', 'mlp': 'mlp',
              'lstm': 'lstm'}
image_models = {'cnn', 'resnet20', 'mobilenet'}  # where channels_last means something
models = args.models.split(',')
for m in models:
    if m not in torch_name:
        sys.exit(f'unknown model {m}: one of {",".join(torch_name)}')
threads = [int(t) for t in args.threads.split(',')]
batches = [int(b) for b in args.batches.split(',')]


def openblas_corename():
    try:
        lib = ctypes.CDLL('libopenblas.so.0')
    except OSError:
        return None
    f = lib.openblas_get_corename
    f.restype = ctypes.c_char_p
    return f().decode()


torch_env = dict(os.environ)
core = openblas_corename()
if core == 'Prescott':
    torch_env['OPENBLAS_CORETYPE'] = 'SKYLAKEX'
print(f'OpenBLAS core: {core}' + (' -> OPENBLAS_CORETYPE=SKYLAKEX for the PyTorch runs' if core == 'Prescott' else ''),
      file=sys.stderr)


def torch_configs(model):
    c = [('fp32 NCHW', []), ('bf16 NCHW', ['--bf16'])]
    if model in image_models:
        c[1:1] = [('fp32 channels_last', ['--channels-last'])]
        c.append(('bf16 channels_last', ['--bf16', '--channels-last']))
    return c


def last_json(out):
    for line in reversed(out.splitlines()):
        line = line.strip()
        if line.startswith('{'):
            return json.loads(line)
    raise RuntimeError('no JSON line in output:\n' + out)


def run(cmd, env=None):
    r = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env)
    if r.returncode != 0:
        raise RuntimeError(' '.join(cmd) + ' failed:\n' + r.stdout)
    return last_json(r.stdout)


timing = ['--chunks', '3', '--warmup', '3'] if args.quick else ['--chunks', '5', '--warmup', '5']
rows = [(m, b, t) for m in models for b in batches for t in threads]
results = {}  # (model, batch, threads) -> config -> [(img/s, rss)]
for rep in range(args.reps):
    for m, b, t in rows:
        r = results.setdefault((m, b, t), {})
        ours = run([os.path.join(args.build, 'bench', 'bench_train'), '--model', m, '--batch', str(b), '--threads', str(t),
                    '--optimizer', 'sgd', '--mode', args.mode] + timing)
        r.setdefault('tapegrad fp32', []).append((ours['median_img_s'], ours['peak_rss_mib']))
        if args.mixed_precision:
            mixed = run([os.path.join(args.build, 'bench', 'bench_train'), '--model', m, '--batch', str(b), '--threads',
                         str(t), '--optimizer', 'sgd', '--mode', args.mode, '--mixed-precision'] + timing)
            r.setdefault('tapegrad bf16', []).append((mixed['median_img_s'], mixed['peak_rss_mib']))
            bf16_isa = mixed['bf16_isa']
        for name, flags in torch_configs(m):
            theirs = run(['/usr/bin/python3', args.zoo, '--model', torch_name[m], '--batch', str(b), '--threads', str(t),
                          '--mode', args.mode] + flags + timing + (['--steps', '5'] if args.quick else []), env=torch_env)
            r.setdefault('torch ' + name, []).append((theirs['median_img_s'], theirs['peak_rss_mib']))
        print(f'rep {rep + 1} {m} b{b} t{t}: ' + ', '.join(f'{k} {v[-1][0]:.0f}' for k, v in r.items()), file=sys.stderr,
              flush=True)


def med(v, i=0):
    return statistics.median(x[i] for x in v)


print('| network | batch | threads | tapegrad fp32 | ' + ' | '.join('torch ' + n for n in ['fp32 NCHW', 'fp32 channels_last',
                                                                           'bf16 NCHW', 'bf16 channels_last']) +
      ' | best torch fp32 | ratio to it | best torch overall | ratio to it | RSS MiB tapegrad / that torch fp32 |' +
      (' tapegrad bf16 (' + bf16_isa + ') | to best torch overall | to tapegrad fp32 |' if args.mixed_precision else ''))
print('| --- ' * (16 if args.mixed_precision else 13) + '|')
for m, b, t in rows:
    r = results[(m, b, t)]
    ours = med(r['tapegrad fp32'])
    cells = []
    for n in ['fp32 NCHW', 'fp32 channels_last', 'bf16 NCHW', 'bf16 channels_last']:
        v = r.get('torch ' + n)
        cells.append(f'{med(v):.0f}' if v else '-')
    fp32 = {k: med(v) for k, v in r.items() if k.startswith('torch fp32')}
    every = {k: med(v) for k, v in r.items() if k.startswith('torch')}
    best32 = max(fp32, key=fp32.get)
    best = max(every, key=every.get)
    print(f'| {m} | {b} | {t} | {ours:.0f} ({min(x[0] for x in r["tapegrad fp32"]):.0f}..{max(x[0] for x in r["tapegrad fp32"]):.0f}) | '
          + ' | '.join(cells) + f' | {best32[6:]} | **{ours / fp32[best32]:.2f}** | {best[6:]} | {ours / every[best]:.2f} | '
          f'{med(r["tapegrad fp32"], 1):.0f} / {med(r[best32], 1):.0f} |' +
          (f' {med(r["tapegrad bf16"]):.0f} | **{med(r["tapegrad bf16"]) / every[best]:.2f}** | '
           f'{med(r["tapegrad bf16"]) / ours:.2f} |' if args.mixed_precision else ''))
