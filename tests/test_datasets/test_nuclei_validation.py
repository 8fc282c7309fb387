# Copyright (c) mmpathseg contributors. All rights reserved.
"""check_nuclei_maps on hand-made 4 x 5 maps: what passes, in which dtypes,
and the message of each refusal."""
import numpy as np
import pytest

from mmpathseg.datasets.nuclei_validation import check_nuclei_maps

# yapf: disable
INST = np.array([[0, 1, 1, 0, 0],
                 [0, 1, 1, 0, 9],
                 [4, 0, 0, 0, 9],
                 [4, 4, 0, 9, 9]])
TYPES = np.array([[0, 2, 2, 0, 0],
                  [0, 2, 2, 0, 1],
                  [3, 0, 0, 0, 1],
                  [3, 3, 0, 1, 1]])
# yapf: enable


@pytest.mark.parametrize(
    'dtype', [np.int32, np.uint16, np.int64, np.float64, np.uint32])
def test_valid_maps_in_any_integer_dtype(dtype):
    inst, types = check_nuclei_maps(
        INST.astype(dtype), TYPES.astype(dtype), 'x.npz', num_classes=3)
    assert inst.dtype == np.int32 and types.dtype == np.uint8
    np.testing.assert_array_equal(inst, INST)
    np.testing.assert_array_equal(types, TYPES)


def test_empty_and_large_ids():
    zeros = np.zeros((4, 5), np.int32)
    check_nuclei_maps(zeros, zeros, 'x', num_classes=1)
    big = np.where(INST > 0, INST + 2**30, 0)
    inst, _ = check_nuclei_maps(big, TYPES, 'x', num_classes=3)
    np.testing.assert_array_equal(inst, big)
    types = TYPES.copy()
    types[3, 3] = 2  # instance 9 gets a second type
    with pytest.raises(
            ValueError,
            match=r'x: instance id 1073741833 has two '
            r'nucleus types: 1 at \(y=1, x=4\) and 2 at '
            r'\(y=3, x=3\)'):
        check_nuclei_maps(big, types, 'x', num_classes=3)


def test_two_types_names_both_pixels_and_classes():
    types = TYPES.copy()
    types[1, 2] = 3
    with pytest.raises(
            ValueError,
            match=r'f\.npz\[3\]: instance id 1 has '
            r'two nucleus types: 2 \(B\) at \(y=0, x=1\) and 3 '
            r'\(C\) at \(y=1, x=2\)'):
        check_nuclei_maps(
            INST,
            types,
            'f.npz[3]',
            num_classes=3,
            class_names=('background', 'A', 'B', 'C'))


@pytest.mark.parametrize('edit, message', [
    (lambda i, t: (i, np.where(t == 3, 5, t)),
     r'type id 5 at pixel \(y=2, x=0\) is outside the class list: types '
     r'must be within 0\.\.3'),
    (lambda i, t:
     (i, np.where(t == 3, 300, t)), r'type id 300 .* outside the class list'),
    (lambda i, t: (np.where(i == 4, -4, i), t),
     r'inst_map values must be within 0\.\.2147483647, got -4 at pixel '
     r'\(y=2, x=0\)'),
    (lambda i, t: (i + 0.5 * (i == 9), t),
     r'inst_map must hold whole numbers, got 9\.5 at pixel \(y=1, x=4\)'),
    (lambda i, t: (i, np.where(i == 4, 0, t)),
     r'instance 4 has pixels of type 0 \(background\), first at \(y=2, '
     r'x=0\) \(3 such pixels\)'),
    (lambda i, t: (np.where(i == 4, 0, i), t),
     r'pixel \(y=2, x=0\) has type 3 but no instance'),
    (lambda i, t:
     (i[:, :4], t), r'inst_map has shape \(4, 4\) but type_map has \(4, 5\)'),
    (lambda i, t: (i.astype(str), t), r'inst_map must hold integers'),
])
def test_refusals(edit, message):
    inst, types = edit(INST, TYPES)
    with pytest.raises(ValueError, match='^lab: ' + message):
        check_nuclei_maps(inst, types, 'lab', num_classes=3)


def test_image_size_and_unbounded_types():
    with pytest.raises(
            ValueError,
            match=r'lab: label size \(4, 5\) differs '
            r'from the image size \(4, 6\) of img\.png'):
        check_nuclei_maps(
            INST, TYPES, 'lab', image_shape=(4, 6, 3), image_where='img.png')
    # Without num_classes any type up to 255 passes.
    check_nuclei_maps(INST, TYPES * 80, 'lab')
    with pytest.raises(ValueError, match='within 0..255'):
        check_nuclei_maps(INST, TYPES * 100, 'lab')
