# Copyright (c) mmpathseg contributors. All rights reserved.
"""A plain folder of images with one binary mask per object (your data)."""
import os
import os.path as osp
from typing import List, Optional, Sequence

from mmengine.dataset import BaseDataset

from mmpathseg.registry import DATASETS
from .samed2d import PromptDatasetError

IMAGE_EXTENSIONS = ('.png', '.jpg', '.jpeg', '.tif', '.tiff', '.bmp')


@DATASETS.register_module()
class MaskFolderDataset(BaseDataset):
    """Images and their object masks in plain folders::

        data_root/images/<stem>.<png|jpg|tif...>
        data_root/masks/<stem>/<object>.png    one binary mask per object

    Optionally ``split_file`` lists the image stems to use, one per line.
    An image without a mask folder (or with an empty one) is an error,
    unless ``skip_unlabelled=True``. Data infos hold ``img_path``,
    ``mask_paths`` and ``mask_names`` like :class:`SAMed2DDataset`, so the
    same pipelines apply.

    Args:
        data_root (str): Dataset folder.
        img_dir (str): Defaults to 'images'.
        mask_dir (str): Defaults to 'masks'.
        split_file (str, optional): Stems to use, relative to data_root.
        skip_unlabelled (bool): Drop images without masks. Defaults to
            False.
        **kwargs: :class:`mmengine.dataset.BaseDataset` arguments.
    """
    METAINFO = dict(classes=('object', ))

    def __init__(self,
                 data_root: str,
                 img_dir: str = 'images',
                 mask_dir: str = 'masks',
                 split_file: Optional[str] = None,
                 skip_unlabelled: bool = False,
                 **kwargs) -> None:
        self.img_dir, self.mask_dir = img_dir, mask_dir
        self.split_file = split_file
        self.skip_unlabelled = skip_unlabelled
        super().__init__(data_root=data_root, ann_file='', **kwargs)

    def _stems(self, images: dict) -> Sequence[str]:
        if self.split_file is None:
            return sorted(images)
        path = osp.join(self.data_root, self.split_file)
        if not osp.isfile(path):
            raise PromptDatasetError(f'MaskFolderDataset: split file {path} '
                                     'does not exist.')
        with open(path, encoding='utf-8') as f:
            stems = [line.strip() for line in f if line.strip()]
        unknown = [s for s in stems if s not in images]
        if unknown:
            raise PromptDatasetError(
                f'{path} lists {len(unknown)} stems without an image in '
                f'{self.img_dir}/, e.g. {unknown[:3]}.')
        return stems

    def load_data_list(self) -> List[dict]:
        img_root = osp.join(self.data_root, self.img_dir)
        mask_root = osp.join(self.data_root, self.mask_dir)
        for folder in (img_root, mask_root):
            if not osp.isdir(folder):
                raise PromptDatasetError(
                    f'MaskFolderDataset: {folder} does not exist; expected '
                    f'{self.img_dir}/<stem>.png and '
                    f'{self.mask_dir}/<stem>/<object>.png.')
        images = {
            osp.splitext(f)[0]: osp.join(img_root, f)
            for f in os.listdir(img_root)
            if f.lower().endswith(IMAGE_EXTENSIONS)
        }
        data_list = []
        for stem in self._stems(images):
            folder = osp.join(mask_root, stem)
            masks = sorted(
                f for f in os.listdir(folder)
                if f.lower().endswith('.png')) if osp.isdir(folder) else []
            if not masks:
                if self.skip_unlabelled:
                    continue
                raise PromptDatasetError(
                    f'MaskFolderDataset: image {images[stem]} has no masks '
                    f'in {folder}/; add them or set skip_unlabelled=True.')
            data_list.append(
                dict(
                    img_path=images[stem],
                    mask_paths=[osp.join(folder, m) for m in masks],
                    mask_names=[osp.splitext(m)[0] for m in masks]))
        if not data_list:
            raise PromptDatasetError(
                f'MaskFolderDataset: no labelled images under '
                f'{self.data_root}.')
        return data_list
