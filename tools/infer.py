# Copyright (c) mmpathseg contributors. All rights reserved.
"""Predict with a config + checkpoint on an image or a folder of images.

    python tools/infer.py CONFIG CHECKPOINT INPUT --out-dir DIR
        [--export geojson coco png summary] [--no-vis] [--batch-size N]
        [--large] [--tile-size H [W]] [--overlap PX] [--work-dir DIR]
        [--device cpu] [--cfg-options k=v ...]
        [--text TEXT | --text TEXTS.json] [--prompts PROMPTS.json]
        [--expression EXPR | --expression EXPRS.json]

INPUT is an image file or a folder (its images, sorted). For every image
the CLI writes ``DIR/vis/{name}.png`` (the overlay) and the requested
exports of the model's task: nuclei models ``{name}.geojson`` (QuPath),
``{name}_coco.json`` (COCO RLE), ``{name}_instances.png`` /
``{name}_types.png`` and ``{name}_summary.json``; semantic models
``{name}_sem_seg.png`` and ``{name}_summary.json``. A progress bar shows on
stderr.

Text-guided models take ``--text``: one report for every image, or a JSON
file mapping image names (file name or stem) to reports (images not in it
get no text). Promptable models need ``--prompts``: a JSON file mapping
image names to ``{"boxes": [[x1, y1, x2, y2], ...], "points": [[[x, y],
...], ...], "point_labels": [[1, 0, ...], ...]}`` in original pixels
(boxes and/or points); they write ``{name}_masks.png``,
``{name}_mask_{i}.png`` and ``{name}_summary.json``. Referring models need
``--expression``: one expression for every image or a JSON file as for
``--text`` (every image needs one); they write ``{name}_ref_mask_{i}.png``
per [SEG] of the answer and ``{name}_summary.json`` with the answer.

``--large`` (automatic for ``.npy`` and whole-slide files) runs tiled,
memory-bounded inference (tiles of ``--tile-size``, ``--overlap`` px shared
between neighbours; image-sized outputs memory-mapped under ``--work-dir``
when given), writes the exports and draws the overlay on a thumbnail of at
most 2048 px.
"""
import argparse
import json
import os
import os.path as osp
import sys
from typing import List

from mmengine.config import DictAction

# Runnable from a checkout without installing the package.
sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))

from mmpathseg.apis import MMPathSegInferencer  # noqa: E402
from mmpathseg.apis.inferencer import IMG_EXTENSIONS, list_images  # noqa
from mmpathseg.apis.slide_readers import WSI_SUFFIXES  # noqa: E402

LARGE_SUFFIXES = WSI_SUFFIXES + ('.npy', )


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description='Predict on an image or a folder of images')
    parser.add_argument('config', help='config file')
    parser.add_argument('checkpoint', help='checkpoint file')
    parser.add_argument('input', help='image file or folder of images')
    parser.add_argument('--out-dir', required=True, help='output folder')
    parser.add_argument(
        '--export',
        nargs='+',
        default=None,
        help='export formats of the task (default: all it has)')
    parser.add_argument(
        '--no-vis', action='store_true', help='do not write overlays')
    parser.add_argument('--batch-size', type=int, default=1)
    parser.add_argument('--device', default='cpu')
    parser.add_argument(
        '--large',
        action='store_true',
        help='tiled, memory-bounded inference for large images')
    parser.add_argument(
        '--tile-size',
        type=int,
        nargs='+',
        default=None,
        help="tile size H [W] for --large (default: the model's "
        'test_cfg.crop_size or 256)')
    parser.add_argument(
        '--overlap', type=int, default=64, help='tile overlap for --large')
    parser.add_argument(
        '--work-dir',
        default=None,
        help='memory-map image-sized outputs of --large here')
    parser.add_argument(
        '--text',
        default=None,
        help='text-guided models: a report for every image, or a JSON file '
        'mapping image names to reports')
    parser.add_argument(
        '--expression',
        default=None,
        help='referring models: an expression for every image, or a JSON '
        'file mapping image names to expressions')
    parser.add_argument(
        '--prompts',
        default=None,
        help='promptable models: a JSON file mapping image names to '
        '{"boxes": ..., "points": ..., "point_labels": ...}')
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        help='override settings in the config, `key=value` pairs')
    return parser.parse_args(argv)


def _inputs(path: str) -> List[str]:
    if osp.isdir(path):
        return list_images(path, IMG_EXTENSIONS + LARGE_SUFFIXES)
    if not osp.isfile(path):
        raise FileNotFoundError(f'tools/infer.py: input {path} not found.')
    return [path]


def _read_json(path: str, flag: str) -> dict:
    with open(path) as f:
        try:
            mapping = json.load(f)
        except json.JSONDecodeError as err:
            raise ValueError(f'tools/infer.py: {flag} {path} is not valid '
                             f'JSON ({err}).') from None
    if not isinstance(mapping, dict):
        raise ValueError(f'tools/infer.py: {flag} {path} must hold an object '
                         'mapping image names to values, got '
                         f'{type(mapping).__name__}.')
    return mapping


def _lookup(mapping: dict, path: str):
    """The entry of an image by file name or stem (None when absent)."""
    name = osp.basename(path)
    for key in (name, osp.splitext(name)[0]):
        if key in mapping:
            return mapping[key]
    return None


def extra_inputs(args, inputs: List[str], accepted) -> List[dict]:
    """Per-image extra inputs from ``--text`` / ``--prompts``.

    Raises:
        ValueError: the model's task does not take them, or a promptable
            image has no prompts.
    """
    extras = [dict() for _ in inputs]
    for key, value, family in (('text', args.text, 'text-guided'),
                               ('expression', args.expression,
                                'referring')):
        if value is None:
            if key == 'expression' and key in accepted:
                raise ValueError('tools/infer.py: referring models need '
                                 '--expression (a string or a JSON file '
                                 'mapping image names to expressions).')
            continue
        if key not in accepted:
            raise ValueError(f'tools/infer.py: --{key} is for {family} '
                             "models; this model's task takes "
                             f'{list(accepted) or "no extra inputs"}.')
        mapping = _read_json(value, f'--{key}') \
            if value.lower().endswith('.json') else None
        for extra, path in zip(extras, inputs):
            extra[key] = _lookup(mapping, path) if mapping is not None \
                else value
            if key == 'expression' and not extra[key]:
                raise ValueError(
                    f'tools/infer.py: no expression for '
                    f'{osp.basename(path)} in {value}; add it under its '
                    'file name.')
    if args.prompts is not None:
        if 'boxes' not in accepted:
            raise ValueError('tools/infer.py: --prompts is for promptable '
                             "models; this model's task takes "
                             f'{list(accepted) or "no extra inputs"}.')
        prompts = _read_json(args.prompts, '--prompts')
        for extra, path in zip(extras, inputs):
            entry = _lookup(prompts, path)
            if entry is None:
                raise ValueError(
                    f'tools/infer.py: no prompts for {osp.basename(path)} '
                    f'in {args.prompts}; add an entry '
                    '{"boxes": [[x1, y1, x2, y2]]} under its file name.')
            if not isinstance(entry, dict):
                raise ValueError(
                    f'tools/infer.py: the prompts of {osp.basename(path)} in '
                    f'{args.prompts} must be an object with "boxes" and/or '
                    f'"points" (+ "point_labels"), got {entry!r}.')
            extra.update(entry)
    elif 'boxes' in accepted:
        raise ValueError('tools/infer.py: promptable models need --prompts '
                         '(a JSON file mapping image names to boxes/points).')
    return extras


def main(argv=None) -> dict:
    args = parse_args(argv)
    from mmengine.config import Config
    cfg = Config.fromfile(args.config)
    if args.cfg_options:
        cfg.merge_from_dict(args.cfg_options)
    inferencer = MMPathSegInferencer(cfg, args.checkpoint, args.device)
    formats = args.export or list(inferencer.adapter.export_formats)
    os.makedirs(args.out_dir, exist_ok=True)
    inputs = _inputs(args.input)
    large = [p for p in inputs
             if args.large or p.lower().endswith(LARGE_SUFFIXES)]
    small = [p for p in inputs if p not in large]
    extras = extra_inputs(args, small, inferencer.adapter.extra_input_keys)
    if large and any(v is not None
                     for v in (args.text, args.prompts, args.expression)):
        raise ValueError('tools/infer.py: --text / --prompts / --expression '
                         'are not '
                         f'supported with tiled inference ({large[0]}).')
    files = []
    if small:
        out = inferencer(
            [dict(extra, img=p) if extra else p
             for p, extra in zip(small, extras)],
            batch_size=args.batch_size,
            out_dir=args.out_dir,
            export_formats=formats,
            draw=not args.no_vis)
        files += out['files']
    tile = args.tile_size
    if tile is not None and len(tile) == 1:
        tile = tile * 2
    for path in large:
        work_dir = osp.join(args.work_dir, osp.basename(path)) \
            if args.work_dir else None
        out = inferencer.infer_large(
            path,
            out_dir=args.out_dir,
            export_formats=formats,
            tile_size=tile,
            overlap=args.overlap,
            batch_size=max(args.batch_size, 1),
            work_dir=work_dir,
            draw=not args.no_vis)
        files += out['files']
    print(f'{len(inputs)} image(s) -> {len(files)} file(s) in {args.out_dir}')
    return dict(files=files, num_inputs=len(inputs))


if __name__ == '__main__':
    main()
