# Copyright (c) mmpathseg contributors. All rights reserved.
"""Binary lesion segmentation with one report sentence per image (the LViT
text annotations of QaTa-COV19 and MosMedData+, and the generated X-ray
demo)."""
import os
import os.path as osp
from typing import Dict, List, Optional, Sequence, Tuple

from mmengine.logging import print_log
from mmseg.datasets import BaseSegDataset

from mmpathseg.registry import DATASETS
from .text_table import read_annotation_table, read_name_list

IMG_EXTENSIONS = ('.png', '.jpg', '.jpeg', '.bmp', '.tif', '.tiff')


def name_to_stem(name: str,
                 strip_prefixes: Sequence[str] = ('mask_', )) -> str:
    """The matching key of an image or mask name.

    ``'mask_covid_1.png'`` -> ``'covid_1'``; ``'Train/covid_1.PNG'`` ->
    ``'covid_1'``. The folder, the extension and one leading prefix of
    ``strip_prefixes`` are dropped (LViT's QaTa workbooks name masks, with the
    ``mask_`` prefix, while the images have none).
    """
    stem = osp.splitext(osp.basename(name.strip().replace('\\', '/')))[0]
    for prefix in strip_prefixes:
        if stem.startswith(prefix):
            return stem[len(prefix):]
    return stem


@DATASETS.register_module()
class TextSegDataset(BaseSegDataset):
    """Images, binary masks and a report sentence per image.

    The text table (``ann_file``, ``.xlsx`` or ``.csv`` with a header row)
    has an image-name column and a description column. Names are matched to
    the files in ``data_prefix.img_path`` by stem (:func:`name_to_stem`), so
    ``mask_x.png``, ``x.png`` and ``x`` all find ``Images/x.png``. The mask of
    an image is ``data_prefix.seg_map_path/`` + ``mask_name.format(stem=...)``.

    Every sample carries ``text`` (str, or None when it has none) and
    ``has_text`` (bool). A row with an empty description gives a sample
    without text; ``include_images_without_text=True`` also adds the images of
    the folder that have no row at all. Such samples are legal: a model runs
    them with its text-absent path (virtual prompt) or the configured
    fallback, see :class:`~mmpathseg.models.segmentors.TextGuidedSegmentor`.

    Splits: ``split_file`` (a table, ``.txt`` or ``.json`` list of names, e.g.
    LViT's ``Train_ID.xlsx`` / ``Val_ID.xlsx``) keeps the rows whose stem it
    lists; ``row_range=(start, end)`` keeps a fraction of the table's data rows
    in file order (Ariadne's split: the first 80% of ``train.csv`` train, the
    rest validate: ``(0.0, 0.8)`` / ``(0.8, 1.0)``). Both are applied after
    duplicates are dropped.

    Args:
        ann_file (str): The text table, relative to ``data_root``.
        data_prefix (dict): ``img_path`` and ``seg_map_path`` folders.
        image_column (str): Name column. Defaults to ``'Image'``.
        text_column (str): Sentence column. Defaults to ``'Description'``.
        mask_name (str): Mask file name from the image stem. Defaults to
            ``'{stem}.png'``.
        strip_prefixes (Sequence[str]): Prefixes dropped from names before
            matching. Defaults to ``('mask_', )``.
        split_file (str, optional): Names to keep (relative to
            ``data_root``).
        split_column (str, optional): Column of ``split_file`` to read;
            defaults to its first column.
        row_range (tuple[float, float], optional): Fractions of the rows.
        include_images_without_text (bool): Add images that have no row.
            Defaults to False.
        duplicates (str): ``'first'`` keeps the first row of a repeated name
            (LViT's workbooks repeat a few; a warning says how many),
            ``'error'`` raises. Defaults to ``'first'``.
        **kwargs: :class:`mmseg.datasets.BaseSegDataset` arguments.
    """

    METAINFO = dict(classes=('background', 'lesion'),
                    palette=[[0, 0, 0], [255, 255, 255]])

    def __init__(self,
                 ann_file: str,
                 data_prefix: dict = dict(img_path='', seg_map_path=''),
                 image_column: str = 'Image',
                 text_column: str = 'Description',
                 mask_name: str = '{stem}.png',
                 strip_prefixes: Sequence[str] = ('mask_', ),
                 split_file: Optional[str] = None,
                 split_column: Optional[str] = None,
                 row_range: Optional[Tuple[float, float]] = None,
                 include_images_without_text: bool = False,
                 duplicates: str = 'first',
                 **kwargs) -> None:
        if duplicates not in ('first', 'error'):
            raise ValueError(f"{type(self).__name__}: duplicates must be "
                             f"'first' or 'error', got {duplicates!r}.")
        if row_range is not None:
            start, end = row_range
            if not 0.0 <= start < end <= 1.0:
                raise ValueError(f'{type(self).__name__}: row_range must be '
                                 f'(start, end) with 0 <= start < end <= 1, '
                                 f'got {row_range}.')
        self.image_column = image_column
        self.text_column = text_column
        self.mask_name = mask_name
        self.strip_prefixes = tuple(strip_prefixes)
        self.split_file = split_file
        self.split_column = split_column
        self.row_range = row_range
        self.include_images_without_text = include_images_without_text
        self.duplicates = duplicates
        super().__init__(
            ann_file=ann_file, data_prefix=data_prefix, **kwargs)

    def _stem(self, name: str) -> str:
        return name_to_stem(name, self.strip_prefixes)

    def _index_images(self, img_dir: str) -> Dict[str, str]:
        if not osp.isdir(img_dir):
            raise FileNotFoundError(
                f'{type(self).__name__}: image folder {img_dir} does not '
                'exist; check `data_root` and `data_prefix.img_path`.')
        index = {}
        for name in sorted(os.listdir(img_dir)):
            if osp.splitext(name)[1].lower() in IMG_EXTENSIONS:
                index.setdefault(self._stem(name), name)
        return index

    def _read_rows(self) -> List[Tuple[int, str, Optional[str]]]:
        """``(row, stem, text)`` of the table, duplicates dropped."""
        rows = read_annotation_table(
            self.ann_file, [self.image_column, self.text_column])
        seen: Dict[str, int] = {}
        kept, repeated = [], []
        for row in rows:
            name = row.values[self.image_column]
            if not name:
                raise ValueError(
                    f'{self.ann_file}, row {row.row}: empty '
                    f'{self.image_column!r} cell; fill it in or delete the '
                    'row.')
            stem = self._stem(name)
            if stem in seen:
                if self.duplicates == 'error':
                    raise ValueError(
                        f'{self.ann_file}, row {row.row}: {name!r} repeats '
                        f'row {seen[stem]}; remove one of them or set '
                        "duplicates='first'.")
                repeated.append(row.row)
                continue
            seen[stem] = row.row
            text = row.values[self.text_column] or None
            kept.append((row.row, stem, text))
        if repeated:
            print_log(
                f'{self.ann_file}: {len(repeated)} repeated name(s) dropped '
                f'(rows {repeated[:10]}{"..." if len(repeated) > 10 else ""}'
                '); the first row of each name is kept.', 'current')
        if self.row_range is not None:
            start, end = self.row_range
            n = len(kept)
            kept = kept[int(start * n):int(end * n)]
        if self.split_file is not None:
            split_file = self.split_file
            if self.data_root and not osp.isabs(split_file):
                split_file = osp.join(self.data_root, split_file)
            wanted = {
                self._stem(n)
                for n in read_name_list(split_file, self.split_column)
            }
            missing = wanted - {stem for _, stem, _ in kept}
            if missing:
                raise ValueError(
                    f'{split_file}: {len(missing)} name(s) are not rows of '
                    f'{self.ann_file}, e.g. {sorted(missing)[:5]}; the split '
                    'file and the text table must come from the same '
                    'release.')
            kept = [r for r in kept if r[1] in wanted]
        return kept

    def load_data_list(self) -> List[dict]:
        img_dir = self.data_prefix.get('img_path', '')
        seg_dir = self.data_prefix.get('seg_map_path', '')
        images = self._index_images(img_dir)
        rows = self._read_rows()
        unmatched = [(row, stem) for row, stem, _ in rows
                     if stem not in images]
        if unmatched:
            listed = ', '.join(f'row {r}: {s!r}' for r, s in unmatched[:5])
            raise ValueError(
                f'{self.ann_file}: {len(unmatched)} name(s) match no image '
                f'in {img_dir} (matched by stem, prefixes '
                f'{self.strip_prefixes} dropped): {listed}'
                f'{" ..." if len(unmatched) > 5 else ""}. Check '
                '`data_prefix.img_path`, or remove those rows.')
        samples = [(stem, text, row) for row, stem, text in rows]
        if self.include_images_without_text:
            listed_stems = {stem for _, stem, _ in rows}
            samples += [(stem, None, None) for stem in images
                        if stem not in listed_stems]
        data_list = []
        for stem, text, row in samples:
            seg_map = osp.join(seg_dir, self.mask_name.format(stem=stem))
            if not osp.isfile(seg_map):
                where = f'row {row}' if row is not None else 'image folder'
                raise FileNotFoundError(
                    f'{self.ann_file} ({where}): the mask of {stem!r} is '
                    f'missing: {seg_map}. Check `data_prefix.seg_map_path` '
                    f'and `mask_name` ({self.mask_name!r}).')
            data_list.append(
                dict(
                    img_path=osp.join(img_dir, images[stem]),
                    seg_map_path=seg_map,
                    sample_name=stem,
                    text=text,
                    has_text=text is not None,
                    text_row=row,
                    label_map=self.label_map,
                    reduce_zero_label=self.reduce_zero_label,
                    seg_fields=[]))
        return data_list
