# Copyright (c) mmpathseg contributors. All rights reserved.
"""Tiny promptable models and batches for CPU tests (64 px input, 4 x 4
token grid)."""
import torch
from mmseg.structures import SegDataSample

IMG = 64
TINY_VIT = dict(
    type='SAMViT',
    arch=dict(
        embed_dims=32, num_layers=8, num_heads=2,
        global_attn_indexes=(1, 3, 5, 7)),
    img_size=IMG,
    window_size=2,
    out_channels=32,
    frozen=True)
TINY_CNN = dict(
    type='ResNet', depth=18, base_channels=8, stem_channels=8,
    out_indices=(0, 1, 2, 3), norm_cfg=dict(type='BN', requires_grad=True))
TINY_MS = dict(
    type='MultiScaleFusion', vit_channels=32, embed_channels=32,
    out_channels=4, bridge_channels=8)
PREPROCESSOR = dict(
    type='SegDataPreProcessor', mean=[123.675, 116.28, 103.53],
    std=[58.395, 57.12, 57.375], size=(IMG, IMG),
    test_cfg=dict(size=(IMG, IMG)))
TINY_PROMPT = dict(
    type='SAMPromptEncoder', embed_dims=32, image_embedding_size=4,
    input_image_size=IMG, mask_in_channels=8)


def tiny_syncsam(fusion='sync', **train_cfg):
    return dict(
        type='PromptableSegmentor',
        data_preprocessor=PREPROCESSOR,
        image_encoder=dict(
            type='SyncSAMEncoder', vit=TINY_VIT, cnn=TINY_CNN,
            cnn_channels=(8, 16, 32, 64), fusion=fusion,
            multi_scale=TINY_MS),
        prompt_encoder=TINY_PROMPT,
        mask_decoder=dict(
            type='MedTokenMaskDecoder', embed_dims=32, depth=1, num_heads=2,
            mlp_dims=64),
        train_cfg=train_cfg or None)


def tiny_sam(**kwargs):
    decoder = dict(
        type='SAMMaskDecoder', embed_dims=32, depth=1, num_heads=2,
        mlp_dims=64, iou_head_hidden_dims=32)
    decoder.update(kwargs.pop('decoder', {}))
    return dict(
        type='PromptableSegmentor',
        data_preprocessor=PREPROCESSOR,
        image_encoder=dict(type='SAMImageEncoder', vit=kwargs.pop(
            'vit', TINY_VIT)),
        prompt_encoder=TINY_PROMPT,
        mask_decoder=decoder,
        **kwargs)


def tiny_batch(num_images=2, masks_per_image=3, shape=(IMG, IMG), seed=0):
    """Random images with rectangle objects and their prompts, as a
    pipeline would pack them (input frame = ``shape``)."""
    gen = torch.Generator().manual_seed(seed)
    inputs, samples = [], []
    for i in range(num_images):
        img = torch.randint(0, 255, (3, ) + shape, generator=gen,
                            dtype=torch.uint8)
        masks = torch.zeros((masks_per_image, ) + shape, dtype=torch.bool)
        boxes, points = [], []
        for k in range(masks_per_image):
            y0 = int(torch.randint(0, shape[0] // 2, (1, ), generator=gen))
            x0 = int(torch.randint(0, shape[1] // 2, (1, ), generator=gen))
            y1, x1 = y0 + 4 + 3 * k, x0 + 6 + 2 * k
            masks[k, y0:y1, x0:x1] = True
            boxes.append([x0, y0, x1, y1])
            points.append([[x0 + 1, y0 + 1]])
        sample = SegDataSample(metainfo=dict(
            ori_shape=(shape[0] * 2, shape[1] * 2), img_shape=shape,
            valid_region=(0, 0, shape[1], shape[0]), sample_idx=i))
        sample.gt_masks = masks
        sample.gt_boxes = torch.tensor(boxes, dtype=torch.float32)
        sample.gt_points = torch.tensor(points, dtype=torch.float32)
        sample.gt_point_labels = torch.ones(masks_per_image, 1,
                                            dtype=torch.long)
        sample.ori_gt_masks = torch.nn.functional.interpolate(
            masks[None].float(), scale_factor=2)[0].bool()
        inputs.append(img)
        samples.append(sample)
    return dict(inputs=inputs, data_samples=samples)
