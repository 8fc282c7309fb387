# Copyright (c) mmpathseg contributors. All rights reserved.
"""SA-Med2D 80/20 split per modality, read back by SAMed2DDataset."""
import json

from tools.dataset_converters.samed2d_split import main, split_index


def _index():
    index = {}
    for mod, count in (('ct_00', 10), ('mr_t1', 5)):
        for i in range(count):
            image = f'images/{mod}--Set--case{i}--x_{i:04d}.png'
            index[image] = [image.replace('images/', 'masks/')[:-4] +
                            f'--0001_00{k}.png' for k in range(2)]
    return index


def test_split_per_modality_and_disjoint():
    train, test = split_index(_index(), 0.2, seed=0)
    test_images = set(test.values())
    assert len(test_images) == 2 + 1  # 20% of 10 CT and of 5 MR
    assert not test_images & set(train)
    assert len(train) == 12 and len(test) == 6
    assert split_index(_index(), 0.2, seed=0) == (train, test)


def test_cli_checks_files(tmp_path):
    index = _index()
    for image, masks in index.items():
        for rel in [image] + masks:
            (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
            (tmp_path / rel).write_bytes(b'')
    first = next(iter(index))
    (tmp_path / index[first][0]).unlink()
    (tmp_path / 'SAMed2D_v1.json').write_text(json.dumps(index))
    num_train, num_test = main([str(tmp_path), '--check-files'])
    train = json.loads((tmp_path / 'image2label_train.json').read_text())
    test = json.loads((tmp_path / 'label2image_test.json').read_text())
    assert num_train == len(train) and num_test == len(test)
    assert sum(map(len, train.values())) + len(test) == 29
