# Copyright (c) mmpathseg contributors. All rights reserved.
import sys
from pathlib import Path

import numpy as np
import pytest
from mmengine.registry import init_default_scope

from mmpathseg.datasets import (MosMedPlusDataset, QaTaCOV19Dataset,
                                name_to_stem, read_annotation_table)
from mmpathseg.datasets.text_table import read_xlsx_rows

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / 'data'))
from text_seg_layouts import (SENTENCES, make_mosmed_layout,  # noqa: E402
                              make_qata_layout, write_csv, write_xlsx)

PIPELINE = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadBinaryMask'),
    dict(type='PackTextSegInputs'),
]


@pytest.fixture(autouse=True)
def _scope():
    init_default_scope('mmpathseg')


def _names(ds):
    return [ds.get_data_info(i)['sample_name'] for i in range(len(ds))]


def test_name_to_stem():
    assert name_to_stem('mask_covid_1.png') == 'covid_1'
    assert name_to_stem('covid_1') == 'covid_1'
    assert name_to_stem('Train\\sub\\covid_1.PNG') == 'covid_1'
    assert name_to_stem('mask_mask_x.png') == 'mask_x'  # one prefix only


def test_lvit_workbook_reads_without_openpyxl(shared_fixtures):
    path = shared_fixtures / 'lvit_text' / 'LV_loss.xlsx'
    rows = read_annotation_table(str(path), ['Image', 'Description'])
    assert len(rows) == 14
    assert rows[0].row == 2
    assert rows[0].values['Image'] == 'fig1.png'
    assert rows[0].values['Description'] == (
        'Unilateral pulmonary infection, one infected area, all left lung.')
    assert rows[13].values['Description'].startswith(
        'Bilateral pulmonary infection, four infected areas')
    assert read_xlsx_rows(str(path))[0] == ['Image', 'Description']


@pytest.mark.parametrize('fmt', ['xlsx', 'csv', 'csv;'])
def test_qata_matches_by_stem(tmp_path, fmt):
    root = make_qata_layout(tmp_path, ['covid_1', 'covid_2', 'covid_3'])
    rows = [['Image', 'Description'],
            ['mask_covid_1.png', SENTENCES[0]],
            ['covid_2', SENTENCES[1]],
            ['mask_covid_3.png', '']]  # no text: allowed, marked
    if fmt == 'xlsx':
        write_xlsx(root / 'text.xlsx', rows)
        ann = 'text.xlsx'
    else:
        write_csv(root / 'text.csv', rows, delimiter=fmt[3:] or ',')
        ann = 'text.csv'
    ds = QaTaCOV19Dataset(
        data_root=str(root), ann_file=ann, pipeline=PIPELINE)
    assert len(ds) == 3
    out = [ds[i]['data_samples'] for i in range(3)]
    assert out[0].text == SENTENCES[0] and out[0].has_text
    assert out[1].text == SENTENCES[1]
    assert out[2].text is None and not out[2].has_text
    mask = out[0].gt_sem_seg.data.numpy()[0]
    assert set(np.unique(mask)) == {0, 1}
    assert mask.sum() == 8 * 10
    assert ds.metainfo['classes'] == ('background', 'lesion')


def test_unmatched_name_error_names_file_and_row(tmp_path):
    root = make_qata_layout(tmp_path, ['covid_1'])
    write_csv(root / 'text.csv', [['Image', 'Description'],
                                  ['mask_covid_1.png', SENTENCES[0]],
                                  ['mask_covid_9.png', SENTENCES[1]]])
    with pytest.raises(ValueError, match=r'text.csv.*row 3.*covid_9'):
        QaTaCOV19Dataset(data_root=str(root), ann_file='text.csv')


def test_missing_column_error(tmp_path):
    root = make_qata_layout(tmp_path, ['covid_1'])
    write_csv(root / 'text.csv', [['Image', 'text'], ['covid_1', 'x']])
    with pytest.raises(ValueError, match="lacks the column.*Description"):
        QaTaCOV19Dataset(data_root=str(root), ann_file='text.csv')


def test_duplicates_split_file_and_row_range(tmp_path):
    names = [f'covid_{i}' for i in range(10)]
    root = make_qata_layout(tmp_path, names)
    rows = [['Image', 'Description']] + [
        [f'mask_{n}.png', SENTENCES[i % 3]] for i, n in enumerate(names)]
    rows.insert(3, ['mask_covid_0.png', 'a repeated row'])
    write_csv(root / 'text.csv', rows)
    ds = QaTaCOV19Dataset(data_root=str(root), ann_file='text.csv')
    assert len(ds) == 10
    assert ds.get_data_info(0)['text'] == SENTENCES[0]  # first row kept
    with pytest.raises(ValueError, match='row 4.*repeats row 2'):
        QaTaCOV19Dataset(
            data_root=str(root), ann_file='text.csv', duplicates='error')
    # Ariadne's split: first 80% of the rows train, the rest validate.
    train = QaTaCOV19Dataset(
        data_root=str(root), ann_file='text.csv', row_range=(0.0, 0.8))
    val = QaTaCOV19Dataset(
        data_root=str(root), ann_file='text.csv', row_range=(0.8, 1.0))
    assert _names(train) == names[:8]
    assert _names(val) == names[8:]
    # LViT's split: an ID workbook.
    write_xlsx(root / 'Val_ID.xlsx',
               [['Image'], ['mask_covid_3.png'], ['covid_5']])
    val = QaTaCOV19Dataset(
        data_root=str(root), ann_file='text.csv', split_file='Val_ID.xlsx')
    assert _names(val) == ['covid_3', 'covid_5']
    write_xlsx(root / 'Bad_ID.xlsx', [['Image'], ['covid_77']])
    with pytest.raises(ValueError, match='Bad_ID.xlsx.*covid_77'):
        QaTaCOV19Dataset(
            data_root=str(root), ann_file='text.csv', split_file='Bad_ID.xlsx')


def test_images_without_rows_are_marked(tmp_path):
    root = make_qata_layout(tmp_path, ['a', 'b'])
    write_csv(root / 'text.csv', [['Image', 'Description'], ['a', 'x y']])
    ds = QaTaCOV19Dataset(data_root=str(root), ann_file='text.csv')
    assert len(ds) == 1
    ds = QaTaCOV19Dataset(
        data_root=str(root),
        ann_file='text.csv',
        include_images_without_text=True,
        pipeline=PIPELINE)
    assert len(ds) == 2
    sample = ds[1]['data_samples']
    assert sample.sample_name == 'b' and sample.has_text is False


def test_missing_mask_error(tmp_path):
    root = make_qata_layout(tmp_path, ['a'])
    (root / 'Train Set' / 'Ground-truths' / 'mask_a.png').unlink()
    write_csv(root / 'text.csv', [['Image', 'Description'], ['a', 'x']])
    with pytest.raises(FileNotFoundError, match=r'row 2.*mask of .a.'):
        QaTaCOV19Dataset(data_root=str(root), ann_file='text.csv')


def test_mosmed_three_channel_masks(tmp_path):
    root = make_mosmed_layout(tmp_path, ['slice_1', 'slice_2'])
    write_csv(root / 'text.csv', [['Image', 'Description'],
                                  ['slice_1.png', SENTENCES[0]],
                                  ['slice_2.png', SENTENCES[2]]])
    ds = MosMedPlusDataset(
        data_root=str(root), ann_file='text.csv', pipeline=PIPELINE)
    sample = ds[1]['data_samples']
    mask = sample.gt_sem_seg.data.numpy()[0]
    assert mask.shape == (32, 32) and mask.sum() == 80
    assert sample.text == SENTENCES[2]


def test_random_drop_text():
    from mmpathseg.datasets.transforms import RandomDropText
    out = RandomDropText(prob=1.0)(dict(text='x', has_text=True))
    assert out['text'] is None and out['has_text'] is False
    out = RandomDropText(prob=0.0)(dict(text='x', has_text=True))
    assert out['text'] == 'x'
    with pytest.raises(ValueError, match='prob'):
        RandomDropText(prob=2)


@pytest.mark.parametrize('base', ['qata.py', 'mosmed.py'])
def test_config_pipelines_run(tmp_path, base):
    """The full-size dataset configs' pipelines on a toy copy of the layout
    (the zoom augmentation forced on)."""
    from mmengine.config import Config
    from mmengine.dataset import pseudo_collate
    from mmseg.models.data_preprocessor import SegDataPreProcessor

    from mmpathseg.registry import DATASETS
    cfg = Config.fromfile(
        Path(__file__).resolve().parents[2] / 'configs/_base_/datasets' /
        base)
    names = ['a', 'b']
    if base == 'qata.py':
        root = make_qata_layout(tmp_path, names)
    else:
        root = make_mosmed_layout(tmp_path, names)
    loaders = [cfg.train_dataloader, cfg.test_dataloader]
    for loader in loaders:
        ds_cfg = loader.dataset
        rows = [['Image', 'Description']] + [[n, SENTENCES[0]]
                                             for n in names]
        write_xlsx(root / ds_cfg.ann_file, rows)
        ds_cfg.data_root = str(root)
        ds_cfg.pop('row_range', None)
        pipeline = ds_cfg.pipeline
        for t in pipeline:
            if t['type'] == 'RandomApply':
                t['prob'] = 1.0
        if base == 'qata.py' and loader is cfg.test_dataloader:
            (root / 'Test Set').symlink_to(root / 'Train Set')
        ds = DATASETS.build(ds_cfg)
        batch = pseudo_collate([ds[0], ds[1]])
        out = SegDataPreProcessor(size=(224, 224))(batch, True)
        assert out['inputs'].shape == (2, 3, 224, 224)
        sample = out['data_samples'][0]
        assert sample.gt_sem_seg.data.shape == (1, 224, 224)
        assert sample.text == SENTENCES[0]
        values = set(sample.gt_sem_seg.data.unique().tolist())
        assert 1 in values and values <= {0, 1, 255}


def test_binary_mask_of_lvit_palette_templates(shared_fixtures):
    """LViT's template masks are palette PNGs; the number of connected
    regions equals the count stated by each template's sentence."""
    from scipy import ndimage

    from mmpathseg.datasets.transforms import LoadBinaryMask
    root = shared_fixtures / 'lvit_text'
    rows = read_annotation_table(str(root / 'LV_loss.xlsx'),
                                 ['Image', 'Description'])
    words = dict(one=1, two=2, three=3, four=4)
    load = LoadBinaryMask()
    for row in rows:
        mask = load(dict(seg_map_path=str(root / row.values['Image'])))[
            'gt_seg_map']
        assert mask.shape == (350, 350) and set(np.unique(mask)) == {0, 1}
        assert 0.07 < mask.mean() < 0.24
        labels, n = ndimage.label(mask)
        sizes = np.bincount(labels.ravel())[1:]
        count = words[row.values['Description'].split(', ')[1].split()[0]]
        assert int((sizes >= 128).sum()) == count, row
