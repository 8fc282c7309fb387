# Copyright (c) mmpathseg contributors. All rights reserved.
import os.path as osp
from typing import Optional

from mmengine.dist import is_main_process
from mmengine.hooks import CheckpointHook

from mmpathseg.registry import HOOKS
from mmpathseg.utils.checkpoint import atomic_write


@HOOKS.register_module()
class AtomicCheckpointHook(CheckpointHook):
    """``CheckpointHook`` whose ``last_checkpoint`` always names a whole file.

    mmengine's hook deletes the oldest kept checkpoint before saving the new
    one and rewrites ``last_checkpoint`` in place. This one saves first (the
    save is atomic under :func:`setup_checkpoint_io`), then replaces
    ``last_checkpoint`` atomically, then deletes the outdated checkpoint.
    Arguments are those of :class:`mmengine.hooks.CheckpointHook`.
    """

    def _rotate_keep_ids(self, runner, step: int) -> Optional[str]:
        """Record ``step`` as kept and return the checkpoint it displaces.

        Args:
            runner (Runner): The runner of the training process.
            step (int): Epoch or iteration of the checkpoint being saved.

        Returns:
            str, optional: Path of the checkpoint to delete after the save.
        """
        if self.max_keep_ckpts <= 0 or (self.keep_ckpt_ids
                                        and self.keep_ckpt_ids[-1] == step):
            return None
        outdated = None
        if len(self.keep_ckpt_ids) == self.max_keep_ckpts:
            outdated = self.file_backend.join_path(
                self.out_dir,
                self.filename_tmpl.format(self.keep_ckpt_ids.popleft()))
        self.keep_ckpt_ids.append(step)
        runner.message_hub.update_info('keep_ckpt_ids',
                                       list(self.keep_ckpt_ids))
        return outdated

    def _remove(self, path: str) -> None:
        if self.file_backend.isfile(path):
            self.file_backend.remove(path)
        elif self.file_backend.isdir(path):  # DeepSpeed saves directories
            self.file_backend.rmtree(path)

    def _save_checkpoint_with_step(self, runner, step: int,
                                   meta: dict) -> None:
        outdated = self._rotate_keep_ids(runner, step)
        ckpt_filename = self.filename_tmpl.format(step)
        self.last_ckpt = self.file_backend.join_path(self.out_dir,
                                                     ckpt_filename)
        runner.message_hub.update_info('last_ckpt', self.last_ckpt)
        runner.save_checkpoint(
            self.out_dir,
            ckpt_filename,
            self.file_client_args,
            save_optimizer=self.save_optimizer,
            save_param_scheduler=self.save_param_scheduler,
            meta=meta,
            by_epoch=self.by_epoch,
            backend_args=self.backend_args,
            **self.args)
        # Sharded (model-parallel) saves: only the main process moves the
        # pointer and prunes.
        if not is_main_process():
            return
        atomic_write(
            self.last_ckpt.encode('utf-8'),
            osp.join(runner.work_dir, 'last_checkpoint'))
        if outdated is not None and outdated != self.last_ckpt:
            self._remove(outdated)
