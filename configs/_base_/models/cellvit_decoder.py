# The nuclei segmentor with CellViT's HoVer decoder (NP / HV / NC branches
# and a tissue classifier), its losses and weights, and HoVer-Net's watershed
# post-processing. The model files next to this one add the backbone and the
# decoder's skip style; the PanNuke head sizes are the default (5 nucleus
# types + background, 19 tissues).
data_preprocessor = dict(
    type='SegDataPreProcessor',
    # CellViT/CellVTA normalise with mean = std = 0.5 of the 0..1 range (not
    # the ImageNet statistics UNI was trained with).
    mean=[127.5, 127.5, 127.5],
    std=[127.5, 127.5, 127.5],
    bgr_to_rgb=True,
    pad_val=0,
    seg_pad_val=255,
    size_divisor=16)
model = dict(
    type='CellInstanceSegmentor',
    data_preprocessor=data_preprocessor,
    pretrained=None,
    # backbone: set by cellvit_sam.py / cellvit_uni.py / cellvta_uni.py
    decode_head=dict(
        type='CellViTHead',
        in_channels=1024,
        skip_mode='deconv',
        branches=dict(
            # Nucleus pixels: 2 logits (background, nucleus).
            np=dict(
                out_channels=2,
                loss=[
                    # CellViT soft-maxes before the loss and the loss
                    # soft-maxes again; the published models were trained
                    # so (set False for the textbook loss).
                    dict(
                        type='FocalTverskyLoss',
                        alpha=0.7,
                        beta=0.3,
                        gamma=4 / 3,
                        double_softmax=True,
                        loss_weight=1.0),
                    dict(type='HoVerDiceLoss', smooth=1e-3, loss_weight=1.0),
                ]),
            # Horizontal / vertical distance maps, linear outputs.
            hv=dict(
                out_channels=2,
                loss=[
                    dict(type='HVMSELoss', loss_weight=2.5),
                    # 'ij' = the gradient axis of CellViT/CellVTA's kernels
                    # ('xy' = the TensorFlow HoVer-Net's).
                    dict(
                        type='MSGELoss',
                        kernel_indexing='ij',
                        loss_weight=8.0),
                ]),
            # Nucleus types, background included.
            nc=dict(
                out_channels=6,
                loss=[
                    dict(
                        type='HoVerCrossEntropyLoss',
                        eps=1e-7,
                        loss_weight=0.5),
                    dict(type='HoVerDiceLoss', smooth=1e-3, loss_weight=0.2),
                    dict(
                        type='MCFocalTverskyLoss',
                        alpha=0.7,
                        beta=0.3,
                        gamma=4 / 3,
                        double_softmax=True,
                        loss_weight=0.5),
                ]),
        ),
        num_tissue_classes=19,
        loss_tissue=dict(
            type='CrossEntropyLoss',
            loss_weight=0.1,
            avg_non_ignore=True,
            loss_name='loss_ce'),
        # The reference runs the shared skips once per branch, so their BN
        # statistics move 3 times a step; reproduced by a raised momentum.
        emulate_per_branch_skips=True,
        drop_rate=0.,
        norm_cfg=dict(type='BN', requires_grad=True)),
    # CellViT's DetectionCellPostProcessor presets: 40x (Sobel 21, markers
    # >= 10 px); 20x data uses magnification=20 (Sobel 11, markers >= 3 px).
    postprocessor=dict(type='HoVerNetPostProcessor', magnification=40),
    # Instance metrics every training batch (the reference's watershed per
    # batch) are off; the pixel Dice/Jaccard and tissue accuracy are cheap.
    train_cfg=dict(log_pixel_metrics=True, log_instance_metrics=False),
    test_cfg=dict(mode='whole'))
