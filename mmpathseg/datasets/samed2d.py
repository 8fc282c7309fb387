# Copyright (c) mmpathseg contributors. All rights reserved.
"""SA-Med2D-20M layout (SAM-Med2D's and SyncSAM's data format)."""
import json
import os.path as osp
from collections import OrderedDict
from typing import Dict, List, Optional

from mmengine.dataset import BaseDataset

from mmpathseg.registry import DATASETS


class PromptDatasetError(ValueError):
    """A promptable-segmentation dataset is missing or inconsistent."""


@DATASETS.register_module()
class SAMed2DDataset(BaseDataset):
    """Images with one binary PNG per object, indexed by a JSON file.

    Layout (SA-Med2D-20M after unzipping, SAM-Med2D's ``data_demo``)::

        data_root/
          images/<stem>.png                    8-bit grey or RGB
          masks/<stem>..._<label>_<NNN>.png    one object each, 0/255
          image2label_train.json   {image path: [mask paths]}   (training)
          label2image_test.json    {mask path: image path}      (test)

    Both JSON kinds are accepted whatever their name (the value type tells
    them apart); ``SAMed2D_v1.json`` of the release is an
    ``image2label`` file. A ``label2image`` file is grouped by image (masks
    in file order), so every sample is **one image with all its masks** and
    the image encoder runs once per image; the metric still scores every
    mask. Paths in the JSON are relative to ``data_root``; a leading folder
    that does not exist under ``data_root`` (SAM-Med2D writes
    ``data_demo/images/...``) is dropped when ``strip_prefix='auto'``.

    Each data info holds ``img_path``, ``mask_paths`` (list),
    ``mask_names`` (file stems) and ``sample_idx``.

    Args:
        ann_file (str): The JSON index, relative to ``data_root``.
        data_root (str): Dataset folder.
        strip_prefix (str, optional): Leading path part to drop from every
            JSON path; ``'auto'`` (default) drops a first folder that is
            absent under ``data_root``; None keeps paths as they are.
        check_files (bool): Check at start that every listed file exists
            (one ``stat`` per file: turn it off for the 20M-mask release and
            let the loader report missing files). Defaults to True.
        **kwargs: :class:`mmengine.dataset.BaseDataset` arguments
            (``pipeline``, ``test_mode``, ``indices``, ...).
    """
    METAINFO = dict(classes=('object', ))

    def __init__(self,
                 ann_file: str,
                 data_root: str = '',
                 strip_prefix: Optional[str] = 'auto',
                 check_files: bool = True,
                 **kwargs) -> None:
        self.strip_prefix = strip_prefix
        self.check_files = check_files
        super().__init__(ann_file=ann_file, data_root=data_root, **kwargs)

    # ------------------------------------------------------------------ #
    def _read_index(self) -> Dict[str, List[str]]:
        """``{image path: [mask paths]}`` from either JSON kind."""
        if not osp.isfile(self.ann_file):
            raise PromptDatasetError(
                f'{type(self).__name__}: annotation file {self.ann_file} '
                'does not exist; set `data_root` to the dataset folder and '
                '`ann_file` to its image2label_*.json / label2image_*.json.')
        with open(self.ann_file, encoding='utf-8') as f:
            index = json.load(f)
        if not isinstance(index, dict) or not index:
            raise PromptDatasetError(
                f'{self.ann_file}: expected a non-empty JSON object '
                '({image: [masks]} or {mask: image}), got '
                f'{type(index).__name__}.')
        values = list(index.values())
        if all(isinstance(v, list) for v in values):
            out = OrderedDict()
            for image, masks in index.items():
                if not masks or not all(isinstance(m, str) for m in masks):
                    raise PromptDatasetError(
                        f'{self.ann_file}: image "{image}" has no mask list '
                        f'(got {masks!r}); remove the entry or list its '
                        'masks.')
                out[image] = list(masks)
            return out
        if all(isinstance(v, str) for v in values):
            grouped: Dict[str, List[str]] = OrderedDict()
            for mask, image in index.items():
                grouped.setdefault(image, []).append(mask)
            return grouped
        raise PromptDatasetError(
            f'{self.ann_file}: values must be all lists (image2label) or all '
            'strings (label2image); this file mixes them.')

    def _prefix_to_strip(self, paths: List[str]) -> str:
        if self.strip_prefix != 'auto':
            return self.strip_prefix or ''
        firsts = {p.replace('\\', '/').split('/', 1)[0] for p in paths}
        if len(firsts) != 1:
            return ''
        first = firsts.pop()
        if '/' not in paths[0] or osp.isdir(osp.join(self.data_root, first)):
            return ''
        return first + '/'

    def _resolve(self, path: str, prefix: str) -> str:
        path = path.replace('\\', '/')
        if prefix and path.startswith(prefix):
            path = path[len(prefix):]
        return osp.join(self.data_root, path)

    def load_data_list(self) -> List[dict]:
        index = self._read_index()
        every = list(index) + [m for ms in index.values() for m in ms]
        prefix = self._prefix_to_strip(every)
        data_list = []
        missing = []
        for image, masks in index.items():
            img_path = self._resolve(image, prefix)
            mask_paths = [self._resolve(m, prefix) for m in masks]
            if self.check_files:
                missing += [
                    p for p in [img_path] + mask_paths if not osp.isfile(p)
                ]
            data_list.append(
                dict(
                    img_path=img_path,
                    mask_paths=mask_paths,
                    mask_names=[
                        osp.splitext(osp.basename(p))[0] for p in mask_paths
                    ]))
        if missing:
            raise PromptDatasetError(
                f'{self.ann_file} lists {len(missing)} files that do not '
                f'exist, e.g. {missing[:3]}. Check `data_root` '
                f'({self.data_root!r}) and `strip_prefix` '
                f'({self.strip_prefix!r}), or drop the entries (SyncSAM\'s '
                '`clear.py` removes entries of missing files).')
        return data_list
