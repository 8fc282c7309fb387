# Copyright (c) mmpathseg contributors. All rights reserved.
"""Checkpoint policy: weights-only loads with a narrow allow-list, atomic
saves, and a ``last_checkpoint`` that always names a whole file."""
import os
import pickle
import shlex
import signal
import subprocess
import sys
import textwrap
import uuid
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn as nn
from mmengine.fileio import io as fileio_io
from mmengine.fileio.backends import backends, prefix_to_backends
from mmengine.fileio.file_client import FileClient
from mmengine.hooks import Hook
from mmengine.logging import HistoryBuffer
from mmengine.model import BaseModel
from mmengine.runner import Runner, load_checkpoint
from mmengine.runner.checkpoint import CheckpointLoader
from torch.utils.data import Dataset

from mmpathseg.engine.hooks import AtomicCheckpointHook
from mmpathseg.utils.checkpoint import (AtomicLocalBackend,
                                        UnsafeCheckpointError, _parse_refusal,
                                        atomic_write,
                                        is_checkpoint_io_set_up,
                                        load_from_local_weights_only,
                                        setup_checkpoint_io, trust_checkpoint)

REPO_ROOT = Path(__file__).resolve().parents[2]


# --------------------------------------------------------------------------
# A tiny mmengine training setup
# --------------------------------------------------------------------------
class ToyModel(BaseModel):

    def __init__(self):
        super().__init__()
        self.linear = nn.Linear(4, 1)

    def forward(self, x, y, mode='tensor'):
        out = self.linear(x)
        if mode == 'loss':
            return dict(loss=((out - y)**2).mean())
        return out


class ToyDataset(Dataset):
    metainfo = dict(classes=('background', 'nucleus'), palette=[[0, 0, 0],
                                                                 [255, 0, 0]])

    def __len__(self):
        return 8

    def __getitem__(self, idx):
        gen = torch.Generator().manual_seed(idx)
        return dict(x=torch.randn(4, generator=gen),
                    y=torch.randn(1, generator=gen))


class PadCheckpointHook(Hook):
    """Make the checkpoint of iteration ``at_iter`` ``numel * 4`` bytes big."""

    def __init__(self, at_iter, numel):
        self.at_iter = at_iter
        self.numel = numel

    def before_save_checkpoint(self, runner, checkpoint):
        if checkpoint['meta']['iter'] == self.at_iter:
            checkpoint['padding'] = torch.zeros(self.numel)


def make_runner(work_dir, max_iters, checkpoint=None, **kwargs):
    """An IterBasedTrainLoop runner with optimizer, scheduler and hub state."""
    checkpoint = checkpoint or dict(
        type='CheckpointHook', by_epoch=False, interval=2)
    return Runner(
        model=dict(type=ToyModel),
        work_dir=str(work_dir),
        # Unique: runners sharing a name in one second share a MessageHub.
        experiment_name=f'ckpt-{uuid.uuid4().hex[:8]}',
        train_dataloader=dict(
            dataset=ToyDataset(),
            sampler=dict(type='DefaultSampler', shuffle=True),
            batch_size=2,
            num_workers=0,
            collate_fn=dict(type='default_collate')),
        optim_wrapper=dict(optimizer=dict(type='AdamW', lr=0.01)),
        param_scheduler=[
            dict(type='LinearLR', start_factor=0.5, by_epoch=False, begin=0,
                 end=2),
            dict(type='PolyLR', by_epoch=False, begin=2, end=4),
        ],
        train_cfg=dict(type='IterBasedTrainLoop', max_iters=max_iters),
        default_hooks=dict(
            checkpoint=checkpoint, logger=dict(type='LoggerHook',
                                               interval=1)),
        log_processor=dict(by_epoch=False),
        randomness=dict(seed=0),
        default_scope='mmengine',
        log_level='WARNING',
        **kwargs)


@pytest.fixture
def checkpoint_io():
    """Run a test under ``setup_checkpoint_io`` and restore mmengine after."""
    saved = dict(
        schemes=CheckpointLoader._schemes.copy(),
        backends=backends.copy(),
        prefixes=prefix_to_backends.copy(),
        fc_backends=FileClient._backends.copy(),
        fc_prefixes=FileClient._prefix_to_backends.copy(),
        fc_instances=FileClient._instances.copy(),
        instances=fileio_io.backend_instances.copy())
    setup_checkpoint_io()
    yield
    CheckpointLoader._schemes = saved['schemes']
    for live, key in ((backends, 'backends'), (prefix_to_backends, 'prefixes'),
                      (FileClient._backends, 'fc_backends'),
                      (FileClient._prefix_to_backends, 'fc_prefixes'),
                      (FileClient._instances, 'fc_instances'),
                      (fileio_io.backend_instances, 'instances')):
        live.clear()
        live.update(saved[key])


@pytest.fixture
def runner_ckpt(tmp_path, checkpoint_io):
    """A real checkpoint of a 2-iteration run, saved under our policy."""
    make_runner(tmp_path / 'run', max_iters=2).train()
    return tmp_path / 'run' / 'iter_2.pth'


# --------------------------------------------------------------------------
# (i) Crafted checkpoints are refused before their payload runs
# --------------------------------------------------------------------------
class ExecPayload:

    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        return exec, (f'open({self.marker!r}, "w").close()', )


class SystemPayload(ExecPayload):

    def __reduce__(self):
        return os.system, (f'touch {shlex.quote(self.marker)}', )


class PathTouchPayload(ExecPayload):

    def __reduce__(self):
        # getattr(pathlib.Path, 'touch'): refused at pathlib.Path.
        return Path.touch, (Path(self.marker), )


class TofilePayload(ExecPayload):

    def __reduce__(self):
        # getattr(numpy.ndarray, 'tofile') on an allowed class: what a
        # plain allow-listed getattr would let through.
        return np.ndarray.tofile, (np.zeros(1), self.marker)


# name: (payload, the global it is refused at, legacy torch.save format)
PAYLOADS = {
    'exec': (ExecPayload, 'builtins.exec', False),
    'exec-legacy-format': (ExecPayload, 'builtins.exec', True),
    'os.system': (SystemPayload, 'posix.system', False),
    'path-touch': (PathTouchPayload, 'pathlib.Path', False),
    'getattr': (TofilePayload, "builtins.getattr(numpy.ndarray, 'tofile')",
                False),
}


def save_malicious(path, payload_cls, marker, legacy=False):
    """A checkpoint that looks normal but creates ``marker`` when unpickled."""
    torch.save(
        dict(
            meta=dict(iter=2, epoch=0),
            state_dict=ToyModel().state_dict(),
            payload=payload_cls(marker)),
        str(path),
        _use_new_zipfile_serialization=not legacy)
    # The payload is live: an unrestricted load runs it.
    torch.load(str(path), weights_only=False)
    assert marker.exists(), 'test payload did not run under pickle'
    marker.unlink()


@pytest.fixture(params=sorted(PAYLOADS))
def malicious(request, tmp_path):
    payload_cls, global_name, legacy = PAYLOADS[request.param]
    if global_name.startswith('posix.') and os.name != 'posix':
        pytest.skip('os.system pickles as posix.system only on POSIX')
    marker = tmp_path / 'pwned'
    path = tmp_path / 'evil.pth'
    save_malicious(path, payload_cls, marker, legacy)
    return path, marker, global_name


def assert_refused(excinfo, path, marker, global_name):
    err = excinfo.value
    assert isinstance(err, pickle.UnpicklingError)
    assert err.global_name == global_name
    assert str(path) in str(err)
    assert global_name in str(err)
    assert 'tools/model_converters/' in str(err)
    assert not marker.exists(), 'the payload ran'


def test_load_checkpoint_refuses_payload(malicious, checkpoint_io):
    path, marker, global_name = malicious
    with pytest.raises(UnsafeCheckpointError) as excinfo:
        load_checkpoint(ToyModel(), str(path), map_location='cpu')
    assert_refused(excinfo, path, marker, global_name)


@pytest.mark.parametrize('mode', ['load_from', 'resume', 'auto_resume'])
def test_runner_refuses_payload(mode, tmp_path, checkpoint_io):
    marker = tmp_path / 'pwned'
    path = tmp_path / 'evil.pth'
    save_malicious(path, ExecPayload, marker)
    work_dir = tmp_path / 'run'
    if mode == 'auto_resume':
        work_dir.mkdir()
        (work_dir / 'last_checkpoint').write_text(str(path))
    runner = make_runner(
        work_dir,
        max_iters=4,
        load_from=None if mode == 'auto_resume' else str(path),
        resume=mode != 'load_from')
    with pytest.raises(UnsafeCheckpointError) as excinfo:
        runner.train()
    assert_refused(excinfo, path, marker, 'builtins.exec')


@pytest.mark.parametrize('reason, name', [
    ('Unsupported global: GLOBAL exec was not an allowed global by default. '
     'Please use `torch.serialization.add_safe_globals([exec])`',
     'builtins.exec'),
    ('Trying to load unsupported GLOBAL posix.system whose module posix is '
     'blocked.', 'posix.system'),
    ('Can only build Tensor, Parameter, OrderedDict or types allowlisted via '
     "`add_safe_globals`, but got <class 'numpy.dtypes.ObjectDType'>",
     'numpy.dtypes.ObjectDType'),
    ('Unsupported operand 149', '<pickle opcode 149>'),
    ('something new', '<unknown>'),
])
def test_refusal_names_the_global(reason, name):
    message = f'Weights only load failed.\nWeightsUnpickler error: {reason}'
    parsed, detail = _parse_refusal(message)
    assert parsed == name
    assert 'add_safe_globals([' not in detail
    err = pickle.loads(pickle.dumps(UnsafeCheckpointError('a.pth', parsed)))
    assert (err.filename, err.global_name) == ('a.pth', name)


def test_trust_checkpoint_is_explicit_and_narrow(tmp_path, checkpoint_io):
    marker = tmp_path / 'pwned'
    path = tmp_path / 'mine.pth'
    save_malicious(path, ExecPayload, marker)
    with trust_checkpoint(str(tmp_path / 'other.pth')):
        with pytest.raises(UnsafeCheckpointError):
            load_from_local_weights_only(str(path))
    assert not marker.exists()
    # Dangerous by design: inside the block the file is fully unpickled.
    with trust_checkpoint(str(path)):
        assert 'payload' in load_from_local_weights_only(str(path))
    assert marker.exists()
    marker.unlink()
    with pytest.raises(UnsafeCheckpointError):
        load_from_local_weights_only(str(path))
    assert not marker.exists()
    with pytest.raises(ValueError):
        with trust_checkpoint():
            pass


def test_allow_list_is_scoped_to_our_loads(runner_ckpt):
    before = set(torch.serialization.get_safe_globals())
    # A user's own safe_globals entry survives our narrower scope.
    with torch.serialization.safe_globals([HistoryBuffer]):
        load_from_local_weights_only(str(runner_ckpt))
        assert HistoryBuffer in torch.serialization.get_safe_globals()
    assert set(torch.serialization.get_safe_globals()) == before
    # Nothing was registered process-wide: torch alone still refuses.
    with pytest.raises(pickle.UnpicklingError):
        torch.load(str(runner_ckpt), weights_only=True)


def test_numpy1_names_load(tmp_path, checkpoint_io):
    """numpy 1 files (mmseg model zoo) name ``numpy.core.multiarray``."""
    path = tmp_path / 'numpy1.pth'
    torch.save(
        dict(hub=HistoryBuffer([1.0, 2.0], [1, 1]), eta=np.float64(1.5)),
        str(path),
        _use_new_zipfile_serialization=False)
    data = path.read_bytes()
    assert b'numpy._core.multiarray\n' in data
    path.write_bytes(
        data.replace(b'numpy._core.multiarray\n', b'numpy.core.multiarray\n'))
    loaded = load_from_local_weights_only(str(path))
    assert loaded['eta'] == 1.5
    np.testing.assert_array_equal(loaded['hub'].data[0], [1.0, 2.0])


# --------------------------------------------------------------------------
# (ii) Our own runner checkpoints save and resume under weights_only
# --------------------------------------------------------------------------
def test_resume_matches_uninterrupted_run(tmp_path, checkpoint_io):
    full = make_runner(tmp_path / 'full', max_iters=4)
    full.train()

    make_runner(tmp_path / 'split', max_iters=2).train()
    ckpt = torch.load(
        str(tmp_path / 'split' / 'iter_2.pth'), weights_only=False)
    assert {'meta', 'state_dict', 'message_hub', 'optimizer',
            'param_schedulers'} <= set(ckpt)
    assert isinstance(ckpt['message_hub']['log_scalars']['train/loss'],
                      HistoryBuffer)
    resumed = make_runner(tmp_path / 'split', max_iters=4, resume=True)
    resumed.train()

    assert resumed.iter == full.iter == 4
    for (name, a), (_, b) in zip(full.model.state_dict().items(),
                                 resumed.model.state_dict().items()):
        assert torch.equal(a, b), name
    # The hub was restored: 2 losses from the checkpoint + 2 new ones, equal
    # to the uninterrupted run's 4.
    for key in ('train/loss', 'train/lr'):
        expected = full.message_hub.get_scalar(key).data[0]
        got = resumed.message_hub.get_scalar(key).data[0]
        assert len(got) == 4
        np.testing.assert_array_equal(got, expected)
    assert (resumed.optim_wrapper.get_lr()['lr'] ==
            full.optim_wrapper.get_lr()['lr'])


# --------------------------------------------------------------------------
# (iii) A save killed mid-write leaves the previous checkpoint in charge
# --------------------------------------------------------------------------
KILL_LIMIT = 1 << 22  # bytes a child may write to one file
PADDING = 1 << 22  # float32s added to the second checkpoint (16 MiB)

CHILD = """
import importlib.util, resource, signal, sys
sys.path.insert(0, {repo!r})
spec = importlib.util.spec_from_file_location('ckpt_tests', {test_file!r})
t = importlib.util.module_from_spec(spec)
spec.loader.exec_module(t)
t.setup_checkpoint_io()
hook = t.AtomicCheckpointHook if {atomic_hook} else 'CheckpointHook'
runner = t.make_runner(
    {work_dir!r}, max_iters=2,
    checkpoint=dict(type=hook, by_epoch=False, interval=1,
                    max_keep_ckpts={max_keep}),
    custom_hooks=[dict(type=t.PadCheckpointHook, at_iter=2,
                       numel={padding})])
resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
# The kernel kills us with SIGXFSZ once a write crosses this size (Python
# ignores SIGXFSZ by default and would get EFBIG instead).
signal.signal(signal.SIGXFSZ, signal.SIG_DFL)
resource.setrlimit(resource.RLIMIT_FSIZE, ({limit}, {limit}))
runner.train()
"""


@pytest.mark.skipif(
    not hasattr(signal, 'SIGXFSZ'), reason='needs RLIMIT_FSIZE/SIGXFSZ')
@pytest.mark.parametrize('atomic_hook, max_keep', [(False, -1), (True, 1)],
                         ids=['CheckpointHook', 'AtomicCheckpointHook-keep1'])
def test_killed_save_leaves_last_checkpoint_whole(atomic_hook, max_keep,
                                                  tmp_path, checkpoint_io):
    work_dir = tmp_path / 'run'
    code = CHILD.format(
        repo=str(REPO_ROOT),
        test_file=__file__,
        atomic_hook=atomic_hook,
        work_dir=str(work_dir),
        max_keep=max_keep,
        padding=PADDING,
        limit=KILL_LIMIT)
    proc = subprocess.run([sys.executable, '-c', textwrap.dedent(code)],
                          capture_output=True,
                          text=True,
                          timeout=300)
    assert proc.returncode == -signal.SIGXFSZ, proc.stderr[-3000:]
    # It died inside the write of iteration 2's checkpoint.
    files = [p for p in work_dir.rglob('*') if p.is_file()]
    assert any(p.stat().st_size == KILL_LIMIT for p in files), files

    assert not (work_dir / 'iter_2.pth').exists()
    last = (work_dir / 'last_checkpoint').read_text().strip()
    assert Path(last) == work_dir / 'iter_1.pth'
    assert load_checkpoint(ToyModel(), last)['meta']['iter'] == 1
    for pth in work_dir.glob('*.pth'):
        load_from_local_weights_only(str(pth))

    # `--resume` (auto) continues from iteration 1 and finishes the run.
    runner = make_runner(work_dir, max_iters=2, resume=True)
    runner.train()
    assert runner.iter == 2
    assert (work_dir / 'last_checkpoint').read_text().endswith('iter_2.pth')


def test_atomic_write_keeps_old_file_on_failure(tmp_path, monkeypatch):
    target = tmp_path / 'ckpt.pth'
    atomic_write(b'old', target)

    def crash(src, dst):
        raise OSError('disk full')

    monkeypatch.setattr(os, 'replace', crash)
    with pytest.raises(OSError, match='disk full'):
        atomic_write(b'new' * 1000, target)
    assert target.read_bytes() == b'old'
    assert [p.name for p in tmp_path.iterdir()] == ['ckpt.pth']


def test_atomic_checkpoint_hook_prunes_after_save(tmp_path, checkpoint_io):
    hook = dict(type=AtomicCheckpointHook, by_epoch=False, interval=1,
                max_keep_ckpts=1)
    runner = make_runner(tmp_path, max_iters=3, checkpoint=hook)
    runner.train()
    assert sorted(p.name for p in tmp_path.glob('*.pth')) == ['iter_3.pth']
    assert (tmp_path / 'last_checkpoint').read_text() == str(
        tmp_path / 'iter_3.pth')
    assert runner.message_hub.get_info('keep_ckpt_ids') == [3]


# --------------------------------------------------------------------------
# (iv) setup_checkpoint_io is explicit and idempotent
# --------------------------------------------------------------------------
def test_setup_is_idempotent(tmp_path, checkpoint_io):
    state = (dict(CheckpointLoader._schemes), dict(backends),
             dict(prefix_to_backends), dict(FileClient._backends))
    setup_checkpoint_io()
    setup_checkpoint_io()
    assert (dict(CheckpointLoader._schemes), dict(backends),
            dict(prefix_to_backends), dict(FileClient._backends)) == state
    assert is_checkpoint_io_set_up()
    assert CheckpointLoader._get_checkpoint_loader(
        str(tmp_path / 'x.pth')) is load_from_local_weights_only
    assert isinstance(fileio_io.get_file_backend(str(tmp_path)),
                      AtomicLocalBackend)

    from mmengine.runner import save_checkpoint
    save_checkpoint(dict(hub=HistoryBuffer([1.0], [1])), str(tmp_path / 'a'))
    assert load_from_local_weights_only(str(tmp_path / 'a'))['hub'].current(
    ) == 1.0


def test_import_has_no_side_effects():
    code = textwrap.dedent("""
        import mmpathseg.utils.checkpoint as c
        print(c.is_checkpoint_io_set_up())
        c.setup_checkpoint_io()
        c.setup_checkpoint_io()
        print(c.is_checkpoint_io_set_up())
    """)
    env = dict(os.environ, PYTHONPATH=str(REPO_ROOT))
    out = subprocess.run([sys.executable, '-c', code],
                         capture_output=True,
                         text=True,
                         env=env,
                         timeout=300)
    assert out.returncode == 0, out.stderr[-3000:]
    assert out.stdout.split() == ['False', 'True']
