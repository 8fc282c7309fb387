# Copyright (c) mmpathseg contributors. All rights reserved.
"""IMed-361M layout (IMIS-Bench's per-dataset folders)."""
import json
import os.path as osp
import re
from typing import List, Optional, Sequence, Tuple

import numpy as np
from mmengine.dataset import BaseDataset

from mmpathseg.registry import DATASETS
from .samed2d import PromptDatasetError

# `x___ABD_001_100.(13, 512, 512, 1).npz`: the label's shape in its name.
SHAPE_IN_NAME = re.compile(r'\((\d+(?:,\s*\d+)*)\)\.npz$')


def label_shape(path: str) -> Tuple[int, ...]:
    """The ``(C, H, W[, 1])`` shape written in an IMed-361M label name."""
    found = SHAPE_IN_NAME.search(osp.basename(path))
    if not found:
        raise PromptDatasetError(
            f'{path}: an IMed-361M label file name must end in its shape, '
            'e.g. "x___ABD_001_100.(13, 512, 512, 1).npz".')
    return tuple(int(v) for v in found.group(1).split(','))


def load_label_masks(path: str) -> np.ndarray:
    """``(C, H, W)`` uint8 masks from a sparse CSR ``(C, H*W)`` ``.npz``
    (read with ``scipy.sparse.load_npz``: no pickles)."""
    from scipy import sparse
    shape = label_shape(path)
    matrix = sparse.load_npz(path)
    if matrix.shape[0] != shape[0] or matrix.shape[1] != int(
            np.prod(shape[1:])):
        raise PromptDatasetError(
            f'{path}: the sparse matrix is {matrix.shape} but the name says '
            f'{shape}; the file and its name disagree.')
    return (matrix.toarray().reshape(shape[0], shape[1], shape[2]) >
            0).astype(np.uint8)


@DATASETS.register_module()
class IMed361MDataset(BaseDataset):
    """IMed-361M: one folder per source dataset, each::

        <name>/dataset.json   name, modality, labels {id: name},
                              training / test: [{image, label, imask}]
        <name>/image/*.png
        <name>/label/<stem>.(C, H, W, 1).npz   sparse CSR (C, H*W), a row
                                                per class
        <name>/imask/*.npy    SAM pseudo regions (not used here)

    A sample is one image; its masks are the **non-empty** rows of its
    label (one binary mask per class present), read by
    :class:`LoadIMedLabels`. Data infos hold ``img_path``, ``label_path``,
    ``dataset_name`` and ``modality``.

    Args:
        data_root (str): Folder holding the per-dataset folders.
        datasets (Sequence[str], optional): Folder names to use; None takes
            every sub-folder with a ``dataset.json``.
        split (str): ``'training'`` or ``'test'`` (the official split).
        check_files (bool): Check every listed file exists. Defaults to
            True.
        **kwargs: :class:`mmengine.dataset.BaseDataset` arguments.
    """
    METAINFO = dict(classes=('object', ))

    def __init__(self,
                 data_root: str,
                 datasets: Optional[Sequence[str]] = None,
                 split: str = 'training',
                 check_files: bool = True,
                 **kwargs) -> None:
        if split not in ('training', 'test'):
            raise ValueError(f'IMed361MDataset: split must be "training" or '
                             f'"test", got {split!r}.')
        self.datasets = datasets
        self.split = split
        self.check_files = check_files
        super().__init__(data_root=data_root, ann_file='', **kwargs)

    def _folders(self) -> List[str]:
        if not osp.isdir(self.data_root):
            raise PromptDatasetError(
                f'IMed361MDataset: data_root {self.data_root} does not '
                'exist.')
        if self.datasets is not None:
            return list(self.datasets)
        import os
        return sorted(
            d for d in os.listdir(self.data_root)
            if osp.isfile(osp.join(self.data_root, d, 'dataset.json')))

    def load_data_list(self) -> List[dict]:
        data_list, missing = [], []
        folders = self._folders()
        if not folders:
            raise PromptDatasetError(
                f'IMed361MDataset: no <dataset>/dataset.json under '
                f'{self.data_root}.')
        for name in folders:
            root = osp.join(self.data_root, name)
            meta_path = osp.join(root, 'dataset.json')
            if not osp.isfile(meta_path):
                raise PromptDatasetError(
                    f'IMed361MDataset: {meta_path} does not exist (listed '
                    'in `datasets`).')
            with open(meta_path, encoding='utf-8') as f:
                meta = json.load(f)
            if self.split not in meta:
                raise PromptDatasetError(
                    f'{meta_path} has no "{self.split}" list (keys: '
                    f'{sorted(meta)}).')
            for entry in meta[self.split]:
                if 'image' not in entry or 'label' not in entry:
                    raise PromptDatasetError(
                        f'{meta_path}: entry {entry} lacks "image" or '
                        '"label".')
                img = osp.join(root, entry['image'])
                label = osp.join(root, entry['label'])
                label_shape(label)
                if self.check_files:
                    missing += [p for p in (img, label) if not osp.isfile(p)]
                data_list.append(
                    dict(
                        img_path=img,
                        label_path=label,
                        dataset_name=meta.get('name', name),
                        modality=meta.get('modality', '')))
        if missing:
            raise PromptDatasetError(
                f'IMed361MDataset: {len(missing)} listed files do not exist, '
                f'e.g. {missing[:3]}.')
        return data_list
