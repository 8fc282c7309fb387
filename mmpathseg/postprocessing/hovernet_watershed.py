# Copyright (c) mmpathseg contributors. All rights reserved.
"""The HoVer-Net marker-controlled watershed: nuclei-pixel (NP) and
horizontal/vertical distance (HV) maps to an instance map.

This is the algorithm of HoVer-Net's ``__proc_np_hv`` as CellViT/CellVTA run
it (``DetectionCellPostProcessor``), step for step and with the same dtypes,
so that the output is identical to the published code. Only numpy, scipy,
OpenCV and scikit-image are used; nothing here needs torch.
"""
import cv2
import numpy as np
from scipy import ndimage
from skimage.segmentation import watershed

NP_MODES = ('argmax', 'prob')


def foreground_mask(np_map: np.ndarray,
                    mode: str = 'argmax',
                    thresh: float = 0.5) -> np.ndarray:
    """Turn the NP branch output into the binary map the watershed starts
    from.

    Args:
        np_map (np.ndarray): either ``(2, H, W)`` background/foreground scores
            (softmax probabilities; for ``mode='argmax'`` logits work too) or
            ``(H, W)`` / ``(1, H, W)`` foreground probability in [0, 1].
        mode (str): ``'argmax'`` (CellViT/CellVTA, the default): the binary
            argmax of the two channels, ties go to background as with
            ``torch.argmax``; for an ``(H, W)`` probability that is
            ``p > 0.5``. ``'prob'`` (HoVer-Net): the foreground probability
            (channel 1 of a 2-channel input) compared with ``thresh``.
        thresh (float): ``p >= thresh`` is foreground in ``'prob'`` mode.
            In ``'argmax'`` mode the published code thresholds the 0/1 argmax
            map at 0.5, so ``thresh`` has no effect there. Defaults to 0.5.

    Returns:
        np.ndarray: ``(H, W)`` bool foreground.
    """
    if mode not in NP_MODES:
        raise ValueError(f'np_mode must be one of {NP_MODES}, got {mode!r}.')
    np_map = np.asarray(np_map)
    if np_map.ndim == 3 and np_map.shape[0] == 1:
        np_map = np_map[0]
    if np_map.ndim == 3:
        if np_map.shape[0] != 2:
            raise ValueError(
                'np_map must be (H, W) foreground probability or (2, H, W) '
                f'background/foreground scores, got shape {np_map.shape}.')
        if mode == 'argmax':
            return np_map[1] > np_map[0]
        prob = np_map[1]
    elif np_map.ndim == 2:
        if mode == 'argmax':
            return np_map > 0.5
        prob = np_map
    else:
        raise ValueError('np_map must be (H, W), (1, H, W) or (2, H, W), got '
                         f'shape {np_map.shape}.')
    # The reference casts the stacked prediction to float32 first.
    return prob.astype(np.float32) >= thresh


def remove_small_labels(labels: np.ndarray, min_size: int) -> np.ndarray:
    """Zero every label with fewer than ``min_size`` pixels (in place).

    Same rule as ``skimage.morphology.remove_small_objects(min_size=...)`` on a
    label image, which the reference uses: a label of exactly ``min_size``
    pixels is kept.

    Args:
        labels (np.ndarray): ``(H, W)`` non-negative int labels.
        min_size (int): smallest size kept.

    Returns:
        np.ndarray: ``labels``, modified.
    """
    if min_size <= 0:
        return labels
    too_small = np.bincount(labels.ravel()) < min_size
    too_small[0] = False
    if too_small.any():
        labels[too_small[labels]] = 0
    return labels


def _label4(mask: np.ndarray) -> tuple:
    """4-connected components of a binary mask as ``(num_labels_with_bg,
    labels)`` with OpenCV (faster than ``scipy.ndimage.label``). Used only
    where the label values do not matter."""
    return cv2.connectedComponents(
        mask.astype(np.uint8, copy=False), connectivity=4, ltype=cv2.CV_32S)


def fill_holes(mask: np.ndarray) -> np.ndarray:
    """``scipy.ndimage.binary_fill_holes`` with its default (4-connected)
    structure, computed by labelling the background once.

    A background pixel is a hole when its 4-connected background component
    does not reach the image border. This gives exactly the scipy result and
    does not iterate a dilation to convergence.

    Args:
        mask (np.ndarray): ``(H, W)`` binary mask.

    Returns:
        np.ndarray: ``(H, W)`` bool mask with holes filled.
    """
    mask = mask.astype(bool)
    num, background = _label4(~mask)
    if num <= 1:
        return mask
    reaches_border = np.zeros(num, dtype=bool)
    for edge in (background[0], background[-1], background[:, 0],
                 background[:, -1]):
        reaches_border[edge] = True
    is_hole = ~reaches_border
    is_hole[0] = False
    return mask | is_hole[background]


def _minmax(x: np.ndarray) -> np.ndarray:
    return cv2.normalize(
        x, None, alpha=0, beta=1, norm_type=cv2.NORM_MINMAX, dtype=cv2.CV_32F)


def hover_watershed(fg: np.ndarray,
                    hv_map: np.ndarray,
                    sobel_ksize: int = 21,
                    min_blob_size: int = 10,
                    marker_thresh: float = 0.4,
                    marker_open_ksize: int = 5,
                    min_marker_size: int = 10,
                    dist_blur_ksize: int = 3,
                    return_intermediates: bool = False):
    """Split the foreground into nuclei with the HoVer-Net watershed.

    Steps (HoVer-Net ``__proc_np_hv``, CellViT ``DetectionCellPostProcessor``):

    1. label ``fg`` (4-connectivity), drop blobs < ``min_blob_size`` pixels
       (10 and independent of magnification in the published code);
    2. min-max normalise each HV channel to [0, 1] over the tile;
    3. Sobel derivative of the horizontal map along x and of the vertical map
       along y (``ksize``), each min-max normalised and inverted;
    4. ``overall = max(sobel_h, sobel_v)`` inside the blobs;
       ``dist = -GaussianBlur((1 - overall) * blobs)``;
    5. markers = blobs where ``overall < marker_thresh``, holes filled,
       opened with an elliptical ``marker_open_ksize`` kernel, labelled,
       markers < ``min_marker_size`` pixels dropped;
    6. ``skimage.segmentation.watershed(dist, markers, mask=blobs)``.

    Args:
        fg (np.ndarray): ``(H, W)`` bool foreground, see
            :func:`foreground_mask`.
        hv_map (np.ndarray): ``(2, H, W)`` float, channel 0 the horizontal
            and channel 1 the vertical distance map (any range; each channel
            is min-max normalised over the tile).
        sobel_ksize (int): Sobel kernel size, 21 at 40x, 11 at 20x.
        min_blob_size (int): smallest foreground blob kept. Defaults to 10.
        marker_thresh (float): ``overall >= marker_thresh`` is a marker
            boundary. Defaults to 0.4.
        marker_open_ksize (int): size of the elliptical opening kernel.
            Defaults to 5.
        min_marker_size (int): smallest marker kept, 10 at 40x, 3 at 20x.
        dist_blur_ksize (int): Gaussian kernel size (sigma from size) of the
            watershed surface. Defaults to 3.
        return_intermediates (bool): also return ``dict(blobs, markers,
            dist)``. Defaults to False.

    Returns:
        np.ndarray: ``(H, W)`` int32 instance map, 0 background. Ids are the
        marker labels, not necessarily contiguous (as in the reference).
    """
    fg = np.asarray(fg)
    hv_map = np.asarray(hv_map)
    if hv_map.ndim != 3 or hv_map.shape[0] != 2:
        raise ValueError('hv_map must have shape (2, H, W) (horizontal, '
                         f'vertical), got {hv_map.shape}.')
    if fg.shape != hv_map.shape[1:]:
        raise ValueError(f'The NP map {fg.shape} and the HV map '
                         f'{hv_map.shape[1:]} must have the same (H, W).')

    # Only the mask of the kept blobs is used, not their labels.
    _, blobs = _label4(fg)
    kept = np.bincount(blobs.ravel()) >= min_blob_size
    kept[0] = False
    blb = kept[blobs].astype(np.int32)

    h_dir = _minmax(hv_map[0].astype(np.float32))
    v_dir = _minmax(hv_map[1].astype(np.float32))
    sobel_h = cv2.Sobel(h_dir, cv2.CV_64F, 1, 0, ksize=sobel_ksize)
    sobel_v = cv2.Sobel(v_dir, cv2.CV_64F, 0, 1, ksize=sobel_ksize)
    sobel_h = 1 - _minmax(sobel_h)
    sobel_v = 1 - _minmax(sobel_v)

    # float32 - int32 promotes to float64, as in the reference.
    overall = np.maximum(sobel_h, sobel_v) - (1 - blb)
    overall[overall < 0] = 0
    dist = (1.0 - overall) * blb
    # Nuclei are mountains; invert them into basins.
    dist = -cv2.GaussianBlur(dist, (dist_blur_ksize, dist_blur_ksize), 0)

    marker = blb - (overall >= marker_thresh).astype(np.int32)
    marker[marker < 0] = 0
    marker = fill_holes(marker).astype(np.uint8)
    kernel = cv2.getStructuringElement(
        cv2.MORPH_ELLIPSE, (marker_open_ksize, marker_open_ksize))
    marker = cv2.morphologyEx(marker, cv2.MORPH_OPEN, kernel)
    marker, _ = ndimage.label(marker)
    marker = remove_small_labels(marker, min_marker_size)

    inst_map = watershed(dist, markers=marker, mask=blb.astype(bool))
    inst_map = inst_map.astype(np.int32, copy=False)
    if return_intermediates:
        return inst_map, dict(blobs=blb, markers=marker, dist=dist)
    return inst_map
