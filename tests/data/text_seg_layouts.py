# Copyright (c) mmpathseg contributors. All rights reserved.
"""Tiny copies of the QaTa-COV19 / MosMedData+ layouts with LViT-style text
tables, written by code for the dataset tests."""
import csv
import zipfile
from pathlib import Path
from typing import List, Sequence
from xml.sax.saxutils import escape

import numpy as np
from PIL import Image

SENTENCES = [
    'Unilateral pulmonary infection, one infected area, lower left lung.',
    'Bilateral pulmonary infection, two infected areas, all left lung and '
    'all right lung.',
    'Unilateral pulmonary infection, one infected area, upper right lung.',
]


def write_xlsx(path: Path, rows: Sequence[Sequence[str]]) -> None:
    """A minimal one-sheet workbook with inline strings (what Excel reads)."""
    def col(i):
        return chr(ord('A') + i)

    sheet_rows = []
    for r, row in enumerate(rows, start=1):
        cells = ''.join(
            f'<c r="{col(c)}{r}" t="inlineStr"><is><t>{escape(v)}</t></is></c>'
            for c, v in enumerate(row))
        sheet_rows.append(f'<row r="{r}">{cells}</row>')
    main = 'http://schemas.openxmlformats.org/spreadsheetml/2006/main'
    rel = ('http://schemas.openxmlformats.org/officeDocument/2006/'
           'relationships')
    pkg = 'http://schemas.openxmlformats.org/package/2006/relationships'
    with zipfile.ZipFile(path, 'w') as z:
        z.writestr('xl/workbook.xml', (
            f'<workbook xmlns="{main}" xmlns:r="{rel}"><sheets>'
            '<sheet name="Sheet1" sheetId="1" r:id="rId1"/></sheets>'
            '</workbook>'))
        z.writestr('xl/_rels/workbook.xml.rels', (
            f'<Relationships xmlns="{pkg}"><Relationship Id="rId1" '
            f'Type="{rel}/worksheet" Target="worksheets/sheet1.xml"/>'
            '</Relationships>'))
        z.writestr('xl/worksheets/sheet1.xml', (
            f'<worksheet xmlns="{main}"><sheetData>{"".join(sheet_rows)}'
            '</sheetData></worksheet>'))


def write_csv(path: Path, rows: Sequence[Sequence[str]],
              delimiter: str = ',') -> None:
    with open(path, 'w', newline='') as f:
        csv.writer(f, delimiter=delimiter).writerows(rows)


def _mask(index: int, size: int = 32) -> np.ndarray:
    mask = np.zeros((size, size), np.uint8)
    mask[4 + index:12 + index, 4:14] = 255
    return mask


def make_qata_layout(root: Path, names: List[str]) -> Path:
    """``Train Set/{Images,Ground-truths}`` with 0/255 masks ``mask_*``."""
    img_dir = root / 'Train Set' / 'Images'
    gt_dir = root / 'Train Set' / 'Ground-truths'
    img_dir.mkdir(parents=True)
    gt_dir.mkdir(parents=True)
    rng = np.random.default_rng(0)
    for i, name in enumerate(names):
        img = rng.integers(0, 255, (32, 32), dtype=np.uint8)
        Image.fromarray(img).save(img_dir / f'{name}.png')
        Image.fromarray(_mask(i)).save(gt_dir / f'mask_{name}.png')
    return root


def make_mosmed_layout(root: Path, names: List[str]) -> Path:
    """``{frames,masks}``, same file names, 3-channel masks."""
    img_dir = root / 'frames'
    gt_dir = root / 'masks'
    img_dir.mkdir(parents=True)
    gt_dir.mkdir(parents=True)
    for i, name in enumerate(names):
        Image.fromarray(np.full((32, 32, 3), 60, np.uint8)).save(
            img_dir / f'{name}.png')
        Image.fromarray(np.repeat(_mask(i)[..., None], 3, 2)).save(
            gt_dir / f'{name}.png')
    return root
