# Copyright (c) mmpathseg contributors. All rights reserved.
import os.path as osp
from typing import Sequence

import mmcv
import mmengine.fileio as fileio
import numpy as np
from mmengine.runner import BaseLoop, Runner
from mmseg.engine.hooks import SegVisualizationHook
from mmseg.structures import SegDataSample

from mmpathseg.registry import HOOKS


@HOOKS.register_module()
class NpySegVisualizationHook(SegVisualizationHook):
    """:class:`mmseg.engine.SegVisualizationHook` that also draws samples
    stored as rows of stacked ``.npy`` arrays (PanNuke, CoNIC).

    mmseg's hook decodes ``img_path`` as an image file and names the picture
    after its basename; for a sample whose metainfo has ``img_index`` (packed
    by ``PackSegInputs(meta_keys=(..., 'img_index'))``) this hook reads row
    ``img_index`` of the ``(N, H, W, 3)`` RGB array at ``img_path`` instead
    and names the picture ``{mode}_fold{fold}_{img_index:04d}`` (``fold``
    when packed too). Samples read from files are drawn as mmseg does.

    With ``tools/test.py --show-dir DIR`` the pictures (ground truth left,
    prediction right) go to ``DIR/vis_data/vis_image/``.

    Unlike mmseg's hook, a test-only run does not build the training loop
    to name the picture's step (``runner.iter`` builds the train dataloader,
    i.e. reads the whole training index, and fails where only the test
    split is present): the step is the training iteration when a training
    loop exists, else 0 (what a fresh loop would say).

    Args:
        with_labels (bool): Write class names on the masks. Defaults to
            False (nuclei are too small for labels).
        **kwargs: Arguments of :class:`SegVisualizationHook` (``draw``,
            ``interval``, ``show``, ``wait_time``, ``backend_args``).
    """

    def __init__(self, with_labels: bool = False, **kwargs) -> None:
        super().__init__(**kwargs)
        self.with_labels = with_labels

    def _load_image(self, sample: SegDataSample) -> np.ndarray:
        """Return the sample's (H, W, 3) uint8 RGB image."""
        img_path = sample.img_path
        if 'img_index' not in sample:
            img_bytes = fileio.get(img_path, backend_args=self.backend_args)
            return mmcv.imfrombytes(img_bytes, channel_order='rgb')
        array = np.load(img_path, mmap_mode='r', allow_pickle=False)
        img = np.asarray(array[int(sample.img_index)])
        return np.clip(np.rint(img), 0, 255).astype(np.uint8)

    @staticmethod
    def _step(runner: Runner) -> int:
        """``runner.iter`` without building a training loop that does not
        exist yet (test-only runs)."""
        loop = getattr(runner, '_train_loop', None)
        return loop.iter if isinstance(loop, BaseLoop) else 0

    @staticmethod
    def _window_name(sample: SegDataSample, mode: str) -> str:
        if 'img_index' not in sample:
            return f'{mode}_{osp.basename(sample.img_path)}'
        fold = f'fold{sample.fold}_' if 'fold' in sample else ''
        return f'{mode}_{fold}{int(sample.img_index):04d}'

    def _after_iter(self,
                    runner: Runner,
                    batch_idx: int,
                    data_batch: dict,
                    outputs: Sequence[SegDataSample],
                    mode: str = 'val') -> None:
        """Draw every ``interval``-th batch of validation and test.

        Args:
            runner (:obj:`Runner`): The runner.
            batch_idx (int): Index of the batch in the loop.
            data_batch (dict): Data from the dataloader.
            outputs (Sequence[:obj:`SegDataSample`]): Model outputs with
                ``pred_sem_seg`` (and ``gt_sem_seg`` when annotated).
            mode (str): ``'val'`` or ``'test'``. Defaults to ``'val'``.
        """
        if self.draw is False or mode == 'train':
            return
        if not self.every_n_inner_iters(batch_idx, self.interval):
            return
        for sample in outputs:
            self._visualizer.add_datasample(
                self._window_name(sample, mode),
                self._load_image(sample),
                data_sample=sample,
                show=self.show,
                wait_time=self.wait_time,
                step=self._step(runner),
                with_labels=self.with_labels)
