# Copyright (c) mmpathseg contributors. All rights reserved.
"""init_model / inference_model on the demo configs (nuclei and semantic),
and the task-adapter registry that lets the other families plug in."""
import numpy as np
import pytest
import torch
from mmseg.models import EncoderDecoder

from mmpathseg.apis import (TaskAdapter, get_task_adapter, inference_model,
                            inference_pipeline, init_model,
                            register_task_adapter, registered_task_adapters)
from mmpathseg.apis import task_adapters
from mmpathseg.apis.cell_adapter import CellInstanceAdapter
from mmpathseg.apis.semantic_adapter import SemanticAdapter


@pytest.fixture(scope='module')
def tiles(tmp_path_factory, fx):
    return fx.write_demo_tiles(str(tmp_path_factory.mktemp('tiles')), num=2)


@pytest.fixture(scope='module')
def cell_ckpt(tmp_path_factory, fx):
    path = tmp_path_factory.mktemp('ckpt') / 'cell.pth'
    return fx.save_random_checkpoint(fx.CELL_CONFIG, str(path), seed=1)


def test_init_model_loads_checkpoint_weights(fx, cell_ckpt):
    model = init_model(fx.CELL_CONFIG, cell_ckpt)
    state = torch.load(cell_ckpt, weights_only=True)['state_dict']
    for name, value in model.state_dict().items():
        torch.testing.assert_close(value, state[name], msg=name)
    assert not model.training
    assert model.dataset_meta['classes'][1] == 'Neoplastic'
    assert len(model.dataset_meta['palette']) == 6
    with pytest.raises(FileNotFoundError, match='no_such.py'):
        init_model('no_such.py')


def test_pipeline_drops_annotation_transforms(fx):
    model = init_model(fx.CELL_CONFIG)
    names = [type(t).__name__ for t in
             inference_pipeline(model.cfg, model).transforms]
    assert names == ['LoadImageFromFile', 'PackNucleiInputs']
    names = [type(t).__name__ for t in
             inference_pipeline(model.cfg, model, from_array=True).transforms]
    assert names[0] == 'LoadImageFromNDArray'


def test_cell_inference_path_and_array_agree(fx, cell_ckpt, tiles):
    model = init_model(fx.CELL_CONFIG, cell_ckpt)
    from_path = inference_model(model, tiles[0]['path'])
    bgr = np.ascontiguousarray(tiles[0]['img'][..., ::-1])
    from_array = inference_model(model, bgr)
    assert from_path.pred_instance_map.shape == (256, 256)
    np.testing.assert_array_equal(from_path.pred_instance_map.data.numpy(),
                                  from_array.pred_instance_map.data.numpy())
    both = inference_model(model, [tiles[0]['path'], tiles[1]['path']])
    assert len(both) == 2
    result = get_task_adapter(model).to_result(both[1])
    inst = result['instances']
    assert result['task'] == 'cell_instance'
    assert result['tissue']['name'] in model.dataset_meta['tissue_types']
    assert len(inst['contours']) == len(inst['ids']) == len(inst['labels'])
    # Every listed instance is in the map with its area.
    for i, area in zip(inst['ids'], inst['areas']):
        assert (result['inst_map'] == i).sum() == area
    with pytest.raises(ValueError, match='unknown extra inputs'):
        inference_model(model, tiles[0]['path'], dict(boxes=[[0, 0, 1, 1]]))


def test_semantic_inference(fx, tiles):
    model = init_model(fx.UNET_CONFIG)
    sample = inference_model(model, tiles[0]['path'])
    adapter = get_task_adapter(model)
    assert isinstance(adapter, SemanticAdapter)
    result = adapter.to_result(sample)
    assert result['sem_seg'].shape == (256, 256)
    assert result['sem_seg'].max() < 6
    summary = adapter.summary(result)
    assert sum(summary['pixel_counts'].values()) == 256 * 256


def test_adapter_registry_walks_the_class_hierarchy():
    registered = registered_task_adapters()
    assert registered['CellInstanceSegmentor'] is CellInstanceAdapter
    assert registered['EncoderDecoder'] is SemanticAdapter

    class MySegmentor(EncoderDecoder):  # a subclass: semantic by default
        pass

    model = MySegmentor.__new__(MySegmentor)
    torch.nn.Module.__init__(model)
    assert isinstance(get_task_adapter(model), SemanticAdapter)

    class Unknown(torch.nn.Module):
        pass

    with pytest.raises(KeyError, match='register_task_adapter'):
        get_task_adapter(Unknown())


def test_a_family_plugs_in_with_an_adapter(tmp_path):
    """What the promptable family will do: register an adapter for its
    segmentor; extra inputs reach the pipeline."""

    class _PromptSegmentor(torch.nn.Module):
        dataset_meta = dict(classes=('background', 'organ'))

    @register_task_adapter('_PromptSegmentor')
    class _PromptAdapter(TaskAdapter):
        task = 'promptable'
        extra_input_keys = ('boxes', 'points')

    try:
        _check_prompt_adapter(_PromptSegmentor())
    finally:
        task_adapters._ADAPTERS.pop('_PromptSegmentor')


def _check_prompt_adapter(model):
    adapter = get_task_adapter(model)
    assert adapter.task == 'promptable'
    assert adapter.class_name(1) == 'organ'
    data = adapter.add_inputs(dict(img_path='x'), dict(boxes=[[1, 2, 3, 4]]))
    assert data['boxes'] == [[1, 2, 3, 4]]
    with pytest.raises(ValueError, match="takes \\['boxes', 'points'\\]"):
        adapter.add_inputs({}, dict(text='x'))
    with pytest.raises(NotImplementedError, match='promptable'):
        adapter.large_image_runner(None)
    with pytest.raises(KeyError, match='already registered'):
        register_task_adapter('_PromptSegmentor')(CellInstanceAdapter)
    with pytest.raises(TypeError, match='not a TaskAdapter'):
        register_task_adapter('_X')(dict)


@pytest.mark.parametrize('adapter', [CellInstanceAdapter, SemanticAdapter])
def test_unknown_export_format_is_named(adapter, tmp_path):
    with pytest.raises(ValueError, match=r"unknown export formats \['xml'\]"):
        adapter().export({}, str(tmp_path), 'tile', ['png', 'xml'])
    assert list(tmp_path.iterdir()) == []  # nothing half-written
