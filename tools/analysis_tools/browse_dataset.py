# Copyright (c) mmpathseg contributors. All rights reserved.
"""Render what a config's pipeline feeds the model.

    python tools/analysis_tools/browse_dataset.py CONFIG --output-dir DIR
        [--split train|val|test] [--num 8] [--cfg-options k=v ...]

For the first ``--num`` samples of the split's dataset (after every
transform: crops, flips, colour jitter, target and prompt making) it writes
``DIR/{index:04d}.png``: the packed image and its ground truth drawn over
it, by what the sample holds:

- nuclei: instances in their type colour with contours, and the horizontal
  and vertical HV targets (blue -1 .. red +1);
- promptable: each sampled object's mask with the box / clicks the prompt
  transforms generated for it (green positive, red negative);
- referring: each target's mask under the question and the answer the
  model is trained to give (``[SEG]`` / ``[REJ]`` per target);
- text-guided: the class map under the report;
- anything else: the class map.

Small images are enlarged (nearest neighbour) so the text stays legible.
"""
import argparse
import os
import os.path as osp
import sys
from typing import List

import cv2
import numpy as np
from mmengine.config import Config, DictAction
from mmengine.registry import init_default_scope

sys.path.insert(0, osp.dirname(osp.dirname(osp.dirname(osp.abspath(
    __file__)))))


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description='Browse a dataset')
    parser.add_argument('config', help='config file')
    parser.add_argument('--output-dir', required=True)
    parser.add_argument('--split', default='train',
                        choices=['train', 'val', 'test'])
    parser.add_argument('--num', type=int, default=8)
    parser.add_argument(
        '--cfg-options', nargs='+', action=DictAction,
        help='override settings in the config, `key=value` pairs')
    return parser.parse_args(argv)


def _hv_panel(channel: np.ndarray) -> np.ndarray:
    """``(H, W)`` values in [-1, 1] -> RGB (blue -1, white 0, red +1)."""
    value = np.clip(channel, -1, 1)
    out = np.full(value.shape + (3, ), 255.0)
    pos, neg = np.clip(value, 0, 1), np.clip(-value, 0, 1)
    out[..., 1] -= 255 * (pos + neg)
    out[..., 2] -= 255 * pos
    out[..., 0] -= 255 * neg
    return out.astype(np.uint8)


def _gap(height: int) -> np.ndarray:
    return np.full((height, 4, 3), 255, np.uint8)


def render_promptable(image: np.ndarray, sample) -> np.ndarray:
    """Object masks with their generated box / click prompts."""
    from mmpathseg.visualization import draw_masks, draw_object_prompts
    from mmpathseg.visualization.draw import object_color
    from mmpathseg.visualization.layout import (resize_nearest, text_banner,
                                                upscale_for_drawing)
    base, factor = upscale_for_drawing(image)
    height, width = base.shape[:2]
    masks = [
        resize_nearest(m, height, width)
        for m in sample.gt_masks.cpu().numpy().astype(bool)
    ]

    def scaled(key):
        if key not in sample:
            return None
        return sample.get(key).cpu().numpy().astype(np.float64) * factor

    labels = sample.gt_point_labels.cpu().numpy() \
        if 'gt_point_labels' in sample else None
    panel = draw_object_prompts(
        draw_masks(base, masks), scaled('gt_boxes'), scaled('gt_points'),
        labels)
    names = list(sample.metainfo.get('mask_names') or [])
    lines = [(f'{len(masks)} objects', (0, 0, 0))]
    lines += [(str(name), object_color(k)) for k, name in enumerate(names)]
    return np.concatenate([text_banner(width, lines), panel], axis=0)


def render_referring(image: np.ndarray, sample) -> np.ndarray:
    """Target masks under the question and the expected answer."""
    from mmpathseg.visualization import draw_masks
    from mmpathseg.visualization.draw import object_color
    from mmpathseg.visualization.layout import (resize_nearest, text_banner,
                                                upscale_for_drawing)
    meta = sample.metainfo
    base, _ = upscale_for_drawing(image)
    height, width = base.shape[:2]
    masks = sample.gt_masks.cpu().numpy().astype(bool)
    empty = sample.gt_empty.cpu().numpy().astype(bool) \
        if 'gt_empty' in sample else np.zeros(len(masks), bool)
    panel = draw_masks(base, [resize_nearest(m, height, width) for m in masks])
    lines = [(f"Q: {meta.get('question', meta.get('expression', ''))}",
              (0, 0, 0)), (f"A: {meta.get('answer', '')}", (0, 0, 0))]
    for t, phrase in enumerate(meta.get('phrases') or []):
        token = '[REJ] (absent)' if t < len(empty) and empty[t] else '[SEG]'
        lines.append((f'{phrase}: {token}', object_color(t)))
    return np.concatenate([text_banner(width, lines), panel], axis=0)


def render_sample(visualizer, data: dict) -> np.ndarray:
    """Panels of one packed sample (``inputs`` ``(3, H, W)`` BGR as loaded,
    ``data_samples``)."""
    from mmpathseg.visualization import (draw_semantic,
                                         draw_text_guided_sample)
    image = data['inputs'].numpy().transpose(1, 2, 0)[..., ::-1]
    image = np.ascontiguousarray(np.clip(image, 0, 255).astype(np.uint8))
    sample = data['data_samples']
    meta = sample.metainfo
    if 'gt_masks' in sample and ('gt_boxes' in sample
                                 or 'gt_points' in sample):
        return render_promptable(image, sample)
    if 'gt_masks' in sample and 'expression' in meta:
        return render_referring(image, sample)
    if 'gt_sem_seg' in sample and ('text' in meta or 'has_text' in meta):
        return draw_text_guided_sample(image, sample, draw_pred=False)
    panels = [image]
    if 'gt_instance_map' in sample:
        panels.append(visualizer.draw_gt_instances(image, sample))
    elif 'gt_sem_seg' in sample:
        palette = visualizer.dataset_meta.get('palette') or [(0, 0, 0)]
        panels.append(
            draw_semantic(image, sample.gt_sem_seg.data[0].numpy(), palette))
    if 'gt_hv_map' in sample:
        hv = sample.gt_hv_map.data.numpy()
        panels += [_hv_panel(hv[0]), _hv_panel(hv[1])]
    row: List[np.ndarray] = []
    for panel in panels:
        row += [panel, _gap(image.shape[0])]
    return np.concatenate(row[:-1], axis=1)


def main(argv=None) -> List[str]:
    from mmpathseg.exports import write_bytes_atomic
    from mmpathseg.registry import DATASETS, VISUALIZERS
    args = parse_args(argv)
    cfg = Config.fromfile(args.config)
    if args.cfg_options:
        cfg.merge_from_dict(args.cfg_options)
    init_default_scope(cfg.get('default_scope', 'mmpathseg'))
    dataset = DATASETS.build(cfg[f'{args.split}_dataloader'].dataset)
    visualizer = VISUALIZERS.build(
        dict(type='PathSegLocalVisualizer', name='browse_dataset'))
    visualizer.dataset_meta = dataset.metainfo
    os.makedirs(args.output_dir, exist_ok=True)
    written = []
    num = min(args.num, len(dataset))
    from mmengine.utils import ProgressBar
    bar = ProgressBar(num, file=sys.stderr)
    for index in range(num):
        picture = render_sample(visualizer, dataset[index])
        ok, buf = cv2.imencode('.png', picture[..., ::-1])
        path = osp.join(args.output_dir, f'{index:04d}.png')
        written.append(write_bytes_atomic(buf.tobytes(), path))
        bar.update()
    sys.stderr.write('\n')
    print(f'{num} {args.split} samples of {args.config} -> '
          f'{args.output_dir}')
    return written


if __name__ == '__main__':
    main()
