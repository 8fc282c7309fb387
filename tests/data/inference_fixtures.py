# Copyright (c) mmpathseg contributors. All rights reserved.
"""Fixtures made by code for the inference API, export and tool tests:
demo tiles written as PNG files, random checkpoints of the demo configs, a
synthetic large image with nuclei on tile seams and a deterministic stand-in
for the nuclei network that gives exact NP/HV/NC maps of such images.

Load with ``load_inference_fixtures()`` (tests are not a package)."""
import os
import os.path as osp
from typing import Dict, List, Tuple

import cv2
import numpy as np
import torch
from scipy import ndimage

REPO_ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
CELL_CONFIG = osp.join(REPO_ROOT, 'configs/demo/cellvta-tiny_pannuke-demo.py')
UNET_CONFIG = osp.join(REPO_ROOT, 'configs/demo/unet-tiny_pannuke-demo.py')

# Colours of the synthetic large image (RGB): background and two types.
BACKGROUND = (235, 200, 220)
TYPE_COLORS = {1: (30, 30, 30), 2: (30, 30, 150)}


def write_demo_tiles(folder: str, num: int = 2, size: int = 256,
                     seed: int = 0) -> List[Dict]:
    """Write ``num`` synthetic H&E tiles (tools/misc/generate_demo_data.py)
    as ``tile_{i}.png`` (BGR on disk); returns their path, RGB image,
    instance and type maps."""
    from tools.misc.generate_demo_data import generate_tile
    os.makedirs(folder, exist_ok=True)
    tiles = []
    for i in range(num):
        img, inst, types, tissue = generate_tile(
            np.random.default_rng(seed + i), size)
        path = osp.join(folder, f'tile_{i}.png')
        cv2.imwrite(path, np.ascontiguousarray(img[..., ::-1]))
        tiles.append(
            dict(path=path, img=img, inst_map=inst, type_map=types,
                 tissue=tissue))
    return tiles


def save_random_checkpoint(config: str, path: str, seed: int = 0) -> str:
    """Save the randomly initialised model of ``config`` (weights only, with
    the dataset meta, as mmengine checkpoints carry it)."""
    from mmpathseg.apis import init_model
    torch.manual_seed(seed)
    model = init_model(config)
    torch.save(
        dict(
            state_dict=model.state_dict(),
            meta=dict(dataset_meta=dict(model.dataset_meta))), path)
    return path


def seam_image(height: int, width: int, tile: int, overlap: int,
               radius: int = 9, spacing: int = 150, seed: int = 0
               ) -> Tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A large RGB image of disk nuclei: a regular grid plus one nucleus
    centred on every vertical and horizontal tile seam of the first
    row/column of tiles, so many nuclei cross tile borders.

    Returns:
        tuple: ``(image (H, W, 3) uint8, inst_map (H, W) int32, types (N,))``
        with instance ``k + 1`` of type ``types[k]``.
    """
    rng = np.random.default_rng(seed)
    stride = tile - overlap
    centres = [(y, x) for y in range(spacing // 2, height - radius, spacing)
               for x in range(spacing // 2, width - radius, spacing)]
    # Nuclei centred on the seams: where tile k ends (k * stride + tile) and
    # where tile k + 1 starts (inner edges of the overlap).
    for k in range(0, (width - tile) // stride):
        for edge in (k * stride + tile, (k + 1) * stride):
            centres.append((tile // 2 + 7 * k, edge))
            centres.append((edge, tile // 2 + 11 * k))
    image = np.empty((height, width, 3), np.uint8)
    image[:] = BACKGROUND
    inst_map = np.zeros((height, width), np.int32)
    types = []
    yy, xx = np.ogrid[-radius:radius + 1, -radius:radius + 1]
    disk = yy**2 + xx**2 <= radius**2
    for y, x in centres:
        y0, x0 = y - radius, x - radius
        if y0 < 0 or x0 < 0 or y + radius >= height or x + radius >= width:
            continue
        window = inst_map[y0:y0 + 2 * radius + 1, x0:x0 + 2 * radius + 1]
        if (window[disk] > 0).any():
            continue  # keep nuclei separate
        kind = int(rng.integers(1, 3))
        types.append(kind)
        window[disk] = len(types)
        image[y0:y0 + 2 * radius + 1,
              x0:x0 + 2 * radius + 1][disk] = TYPE_COLORS[kind]
    return image, inst_map, np.asarray(types, np.int64)


def fake_nuclei_maps(inputs: torch.Tensor) -> Dict[str, torch.Tensor]:
    """Deterministic stand-in for a nuclei network on images from
    :func:`seam_image` (normalised with mean = std = 127.5, RGB): NP = dark
    pixels, HV = the exact HV target of the connected components of the
    tile, NC = type 2 where the blue channel is bright.

    Returns:
        dict: ``np`` ``(N, 2, h, w)``, ``hv`` ``(N, 2, h, w)``, ``nc``
        ``(N, 3, h, w)``, as the segmentor's map function.
    """
    from mmpathseg.datasets.transforms.nuclei_targets import instance_hv_map
    rgb = inputs.detach().cpu().numpy()
    fg = rgb[:, 0] < -0.5
    blue = rgb[:, 2] > -0.2
    num, height, width = fg.shape
    np_map = np.stack([~fg, fg], axis=1).astype(np.float32)
    hv = np.zeros((num, 2, height, width), np.float32)
    for i in range(num):
        labels, _ = ndimage.label(fg[i])
        hv[i] = instance_hv_map(labels.astype(np.int32))
    kind = np.where(fg, np.where(blue, 2, 1), 0)
    nc = np.stack([kind == c for c in range(3)], axis=1).astype(np.float32)
    return dict(
        np=torch.from_numpy(np_map),
        hv=torch.from_numpy(hv),
        nc=torch.from_numpy(nc))


def fake_cell_model():
    """The tiny demo CellVTA with its network replaced by
    :func:`fake_nuclei_maps` (the post-processing, merging and export code
    stay real); HoVer-Net's 20x preset suits the 9 px nuclei."""
    from mmpathseg.apis import init_model
    model = init_model(
        CELL_CONFIG,
        cfg_options=dict(
            model=dict(
                postprocessor=dict(
                    type='HoVerNetPostProcessor', magnification=20))))
    model._map_fn = fake_nuclei_maps
    model.dataset_meta = dict(
        classes=('background', 'dark', 'blue'),
        palette=[[0, 0, 0], [255, 0, 0], [0, 0, 255]])
    return model


class CountingReader:
    """A region reader over an array that records the largest region read
    (to show the tiled path never reads the image whole)."""

    def __init__(self, image: np.ndarray) -> None:
        self.image = image
        self.max_area = 0
        self.reads = 0

    @property
    def shape(self):
        return self.image.shape[:2]

    def read(self, y, x, h, w):
        region = self.image[y:y + h, x:x + w]
        self.max_area = max(self.max_area, region.shape[0] * region.shape[1])
        self.reads += 1
        return region.copy()


def match_instances(gt: np.ndarray, pred: np.ndarray,
                    iou: float = 0.8) -> Tuple[int, int, int]:
    """``(matched, missed, extra)`` of ground-truth vs predicted instances
    at IoU >= ``iou``, each prediction used once."""
    fg = (gt > 0) | (pred > 0)
    pairs, inter = np.unique(
        np.stack([gt[fg], pred[fg]]).astype(np.int64), axis=1,
        return_counts=True)
    gt_area = np.bincount(gt.ravel())
    pred_area = np.bincount(np.asarray(pred).ravel())
    matched_gt, matched_pred = set(), set()
    for (g, p), n in zip(pairs.T, inter):
        if g and p and n / (gt_area[g] + pred_area[p] - n) >= iou:
            matched_gt.add(int(g))
            matched_pred.add(int(p))
    num_gt = int(np.count_nonzero(gt_area[1:]))
    num_pred = int(np.count_nonzero(pred_area[1:]))
    return (len(matched_gt), num_gt - len(matched_gt),
            num_pred - len(matched_pred))


def demo_loader_options(data_root: str) -> Dict:
    """``--cfg-options`` pointing a demo config's data loaders at a tiny
    generated copy, without worker processes."""
    options = {}
    for split in ('train', 'val', 'test'):
        options.update({
            f'{split}_dataloader.dataset.data_root': str(data_root),
            f'{split}_dataloader.num_workers': 0,
            f'{split}_dataloader.persistent_workers': False,
        })
    return options


def make_demo_dataset(root: str, num_per_fold: int = 2) -> str:
    """A tiny PanNuke-layout demo dataset under ``root``."""
    from tools.misc.generate_demo_data import write_dataset
    write_dataset(str(root), num_per_fold=num_per_fold, seed=0)
    return str(root)
