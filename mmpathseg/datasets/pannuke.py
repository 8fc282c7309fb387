# Copyright (c) mmpathseg contributors. All rights reserved.
"""PanNuke in its release layout (also the layout of the generated demo
data, ``tools/misc/generate_demo_data.py``)."""
import os.path as osp
from typing import Dict, List, Sequence, Union

import numpy as np
from mmseg.datasets import BaseSegDataset

from mmpathseg.registry import DATASETS

NUCLEI_TYPES = ('Neoplastic', 'Inflammatory', 'Connective', 'Dead',
                'Epithelial')
# Alphabetical; the index is CellViT's tissue id.
PANNUKE_TISSUE_TYPES = ('Adrenal_gland', 'Bile-duct', 'Bladder', 'Breast',
                        'Cervix', 'Colon', 'Esophagus', 'HeadNeck', 'Kidney',
                        'Liver', 'Lung', 'Ovarian', 'Pancreatic', 'Prostate',
                        'Skin', 'Stomach', 'Testis', 'Thyroid', 'Uterus')
# Channels of ``masks.npy``: 0..4 instance ids per type, 5 background.
PANNUKE_MASK_CHANNELS = 6


def pannuke_fold_files(root: str, fold: int) -> Dict[str, str]:
    """Release paths of the 0-based ``fold`` under ``root``.

    The release names folds from 1 (``Fold 1/images/fold1/images.npy``);
    configs count from 0 as CellViT/CellVTA do, so ``fold=0`` is ``Fold 1``.

    Returns:
        dict: ``images``, ``types`` and ``masks`` file paths.
    """
    k = fold + 1
    return dict(
        images=osp.join(root, f'Fold {k}', 'images', f'fold{k}',
                        'images.npy'),
        types=osp.join(root, f'Fold {k}', 'images', f'fold{k}', 'types.npy'),
        masks=osp.join(root, f'Fold {k}', 'masks', f'fold{k}', 'masks.npy'))


@DATASETS.register_module()
class PanNukeDataset(BaseSegDataset):
    """PanNuke nuclei dataset, read from the release ``.npy`` files.

    Expected layout under ``data_root`` (one folder per 1-based fold)::

        Fold 1/images/fold1/images.npy  (N, 256, 256, 3) RGB 0..255
        Fold 1/images/fold1/types.npy   (N,) unicode tissue names
        Fold 1/masks/fold1/masks.npy    (N, 256, 256, 6)
        Fold 2/...   Fold 3/...

    ``masks.npy`` channels 0..4 hold the instance ids of Neoplastic,
    Inflammatory, Connective, Dead and Epithelial nuclei (0 = none); channel 5
    is the release's background indicator and is not used. Nothing is read
    into memory here: the arrays are memory-mapped and each sample is taken by
    :class:`LoadImageFromNpy` and :class:`LoadPanNukeAnnotations` (which
    checks the sample). At initialisation the shapes of every fold's files are
    checked against each other and every tissue name against
    ``METAINFO['tissue_types']``.

    Semantic classes are ``background`` (0) and the five nucleus types (1..5,
    CellViT's numbering). Each data info carries ``img_path`` /
    ``seg_map_path`` (the fold's ``images.npy`` / ``masks.npy``),
    ``img_index`` (row in those arrays), ``fold`` (0-based), ``tissue`` (name)
    and ``tissue_label`` (index in ``tissue_types``).

    Standard splits (train / val / test folds, 0-based): ``[0] / [1] / [2]``,
    ``[1] / [0] / [2]``, ``[2] / [1] / [0]``.

    Args:
        folds (int | Sequence[int]): 0-based folds to read, in order.
            Defaults to ``(0, )``.
        data_root (str): Folder holding ``Fold 1``, ``Fold 2``, ...
        **kwargs: Other arguments of :class:`mmseg.datasets.BaseSegDataset`
            (``pipeline``, ``indices``, ``test_mode``, ...).
    """
    METAINFO = dict(
        classes=('background', ) + NUCLEI_TYPES,
        # CellViT's colours; background black.
        palette=[[0, 0, 0], [255, 0, 0], [34, 221, 77], [35, 92, 236],
                 [254, 255, 0], [255, 159, 68]],
        tissue_types=PANNUKE_TISSUE_TYPES)

    def __init__(self,
                 folds: Union[int, Sequence[int]] = (0, ),
                 data_root: str = None,
                 **kwargs) -> None:
        if isinstance(folds, int):
            folds = (folds, )
        if not folds or any(
                not isinstance(f, int) or f < 0 for f in folds):
            raise ValueError(
                f'PanNukeDataset: `folds` must be a non-empty list of 0-based '
                f'fold indices (0 = "Fold 1"), got {folds!r}.')
        if data_root is None:
            raise ValueError(
                'PanNukeDataset needs `data_root`, the folder that holds '
                '"Fold 1", "Fold 2", ... (see data/README.md).')
        self.folds = tuple(folds)
        kwargs.setdefault('img_suffix', '.npy')
        kwargs.setdefault('seg_map_suffix', '.npy')
        super().__init__(data_root=data_root, **kwargs)

    def load_data_list(self) -> List[dict]:
        """Index the samples of ``self.folds``.

        Returns:
            list[dict]: One data info per tile (no pixel data).
        """
        tissue_types = tuple(self.metainfo['tissue_types'])
        data_list = []
        for fold in self.folds:
            files = pannuke_fold_files(self.data_root, fold)
            num, tissues = self._check_fold(files, tissue_types)
            for index in range(num):
                data_list.append(
                    dict(
                        img_path=files['images'],
                        seg_map_path=files['masks'],
                        img_index=index,
                        fold=fold,
                        tissue=tissues[index],
                        tissue_label=tissue_types.index(tissues[index]),
                        label_map=self.label_map,
                        reduce_zero_label=self.reduce_zero_label,
                        seg_fields=[]))
        return data_list

    @staticmethod
    def _check_fold(files: Dict[str, str],
                    tissue_types: Sequence[str]) -> tuple:
        """Check one fold's files from their headers and ``types.npy``.

        Returns:
            tuple: The number of tiles and the list of tissue names.
        """
        for path in files.values():
            if not osp.isfile(path):
                raise FileNotFoundError(
                    f'PanNuke file {path} is missing. Expected the release '
                    'layout "Fold k/images/foldk/{images,types}.npy" and '
                    '"Fold k/masks/foldk/masks.npy" under `data_root` (see '
                    'data/README.md); make the demo data with `python '
                    'tools/misc/generate_demo_data.py`.')
        images = np.load(files['images'], mmap_mode='r', allow_pickle=False)
        masks = np.load(files['masks'], mmap_mode='r', allow_pickle=False)
        if images.ndim != 4 or images.shape[-1] != 3:
            raise ValueError(
                f'{files["images"]}: expected an (N, H, W, 3) RGB array, got '
                f'shape {images.shape}.')
        if masks.ndim != 4 or masks.shape[-1] != PANNUKE_MASK_CHANNELS:
            raise ValueError(
                f'{files["masks"]}: expected (N, H, W, '
                f'{PANNUKE_MASK_CHANNELS}) (instance ids of '
                f'{", ".join(NUCLEI_TYPES)}, then background), got shape '
                f'{masks.shape}: wrong channel count.')
        if images.shape[:3] != masks.shape[:3]:
            raise ValueError(
                f'{files["images"]} has shape {images.shape} but '
                f'{files["masks"]} has {masks.shape}: the number of tiles and '
                'their height/width must match.')
        for path, array in ((files['images'], images), (files['masks'],
                                                         masks)):
            if not (np.issubdtype(array.dtype, np.number)
                    and not np.issubdtype(array.dtype, np.complexfloating)):
                raise ValueError(f'{path}: expected a real numeric array, got '
                                 f'dtype {array.dtype}.')
        try:
            types = np.load(files['types'], allow_pickle=False)
        except ValueError as err:
            raise ValueError(
                f'{files["types"]} holds Python objects, which are not '
                'unpickled. Re-save it as a unicode array: '
                '`np.save(path, np.load(path, allow_pickle=True)'
                '.astype(str))` (only for a file you trust).') from err
        if types.shape != images.shape[:1] or types.dtype.kind not in 'US':
            raise ValueError(
                f'{files["types"]}: expected {images.shape[0]} tissue names '
                f'(one per tile of {files["images"]}), got an array of shape '
                f'{types.shape} and dtype {types.dtype}.')
        tissues = [str(t) for t in types.astype(str)]
        unknown = sorted(set(tissues) - set(tissue_types))
        if unknown:
            index = tissues.index(unknown[0])
            raise ValueError(
                f'{files["types"]}: tissue {unknown[0]!r} at index {index} is '
                f'not one of the dataset\'s tissue_types {list(tissue_types)}.'
                ' Fix the name or pass `metainfo=dict(tissue_types=[...])`.')
        return images.shape[0], tissues
