# Copyright (c) mmpathseg contributors. All rights reserved.
"""Loss and metric curves as a PNG from mmengine's JSON logs.

    python tools/analysis_tools/analyze_logs.py LOG [LOG ...]
        [--keys loss mPQ ...] [--out curves.png] [--legend NAME ...]
        [--title TEXT]

LOG is a run's ``vis_data/scalars.json`` (or ``{timestamp}.json``) under
its work dir, or the work dir itself (its newest run is used). Each key gets
its own panel, plotted against the iteration (``step``); training entries
(with ``loss``) and validation entries (metrics) are both read. Without
``--keys`` the panels are ``loss`` and every validation metric found. The
first/last/best value of every key is printed.
"""
import argparse
import glob
import io
import json
import os
import os.path as osp
import sys
from collections import OrderedDict
from typing import Dict, List, Sequence, Tuple

sys.path.insert(0, osp.dirname(osp.dirname(osp.dirname(osp.abspath(
    __file__)))))

Series = Dict[str, List[Tuple[float, float]]]
NON_METRICS = ('lr', 'data_time', 'time', 'iter', 'step', 'epoch', 'memory')


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description='Plot training curves')
    parser.add_argument('logs', nargs='+', help='scalars.json or work dirs')
    parser.add_argument('--keys', nargs='+', default=None)
    parser.add_argument('--out', default='curves.png', help='output PNG')
    parser.add_argument('--legend', nargs='+', default=None,
                        help='one name per log (default: the run folder)')
    parser.add_argument('--title', default=None)
    return parser.parse_args(argv)


def resolve_log(path: str) -> str:
    """A log file, or the newest ``*/vis_data/scalars.json`` under a work
    dir."""
    if osp.isfile(path):
        return path
    if osp.isdir(path):
        found = sorted(glob.glob(osp.join(path, '*', 'vis_data',
                                          'scalars.json')))
        if found:
            return found[-1]
    raise FileNotFoundError(
        f'analyze_logs: {path} is neither a JSON log nor a work dir with '
        '<timestamp>/vis_data/scalars.json.')


def load_log(path: str) -> Series:
    """``{key: [(step, value), ...]}`` of one JSON-lines log."""
    series: Series = OrderedDict()
    with open(path) as f:
        for number, line in enumerate(f, 1):
            line = line.strip()
            if not line:
                continue
            try:
                entry = json.loads(line)
            except json.JSONDecodeError as err:
                raise ValueError(f'analyze_logs: {path}:{number} is not '
                                 f'JSON ({err.msg}).') from None
            step = entry.get('step', entry.get('iter', entry.get('epoch')))
            if step is None:
                continue
            for key, value in entry.items():
                if key in ('step', 'iter', 'epoch') or \
                        not isinstance(value, (int, float)):
                    continue
                series.setdefault(key, []).append((float(step),
                                                   float(value)))
    if not series:
        raise ValueError(f'analyze_logs: no scalar entries in {path}.')
    return series


def default_keys(series: Series) -> List[str]:
    """``loss`` plus the metrics of validation entries."""
    keys = ['loss'] if 'loss' in series else []
    keys += [
        k for k in series
        if k not in NON_METRICS and 'loss' not in k and '.' not in k
        and k not in keys and len(series[k]) < len(series.get('lr', ()))
    ]
    return keys or [k for k in series if k not in NON_METRICS][:4]


def plot_curves(logs: Sequence[Series], names: Sequence[str],
                keys: Sequence[str], title=None) -> bytes:
    """PNG bytes of one panel per key, one line per log."""
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    cols = min(len(keys), 3)
    rows = -(-len(keys) // cols)
    fig, axes = plt.subplots(
        rows, cols, figsize=(4.5 * cols, 3.2 * rows), squeeze=False)
    for ax, key in zip(axes.flat, keys):
        for series, name in zip(logs, names):
            if key in series:
                xs, ys = zip(*series[key])
                ax.plot(xs, ys, marker='o' if len(xs) < 10 else None,
                        label=name)
        ax.set_title(key)
        ax.set_xlabel('iteration')
        ax.grid(alpha=0.3)
        if len(logs) > 1:
            ax.legend(fontsize='small')
    for ax in list(axes.flat)[len(keys):]:
        ax.axis('off')
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format='png', dpi=100)
    plt.close(fig)
    return buf.getvalue()


def main(argv=None) -> Dict:
    from mmpathseg.exports import write_bytes_atomic
    args = parse_args(argv)
    paths = [resolve_log(p) for p in args.logs]
    logs = [load_log(p) for p in paths]
    names = args.legend or [
        osp.basename(osp.dirname(osp.dirname(osp.dirname(osp.abspath(p)))))
        or p for p in paths
    ]
    if len(names) != len(logs):
        raise ValueError(f'analyze_logs: {len(names)} legend names for '
                         f'{len(logs)} logs.')
    keys = args.keys or default_keys(logs[0])
    missing = [k for k in keys if not any(k in s for s in logs)]
    if missing:
        raise KeyError(f'analyze_logs: keys {missing} are in no log; '
                       f'available: {sorted(set().union(*logs))}.')
    for series, name in zip(logs, names):
        for key in keys:
            if key in series:
                values = [v for _, v in series[key]]
                print(f'{name} {key}: first {values[0]:.4f}, last '
                      f'{values[-1]:.4f}, min {min(values):.4f}, max '
                      f'{max(values):.4f} ({len(values)} points)')
    os.makedirs(osp.dirname(osp.abspath(args.out)), exist_ok=True)
    write_bytes_atomic(plot_curves(logs, names, keys, args.title), args.out)
    print(f'curves of {keys} -> {args.out}')
    return dict(keys=keys, out=args.out, logs=paths)


if __name__ == '__main__':
    main()
