# CellVTA: UNI (timm ViT-L/16, frozen throughout) + CellVTA's CNN adapter
# with multi-scale deformable attention + CellViT's decoder on the adapter
# pyramid (plain-convolution skips). Adapter settings as hard-coded in
# CellVTA's experiment_cellvit_*.py; 387.8 M parameters, 84.4 M trainable.
_base_ = ['./cellvit_decoder.py']
model = dict(
    backbone=dict(
        type='CellVTAAdapter',
        vit=dict(
            type='UNIViT',
            arch='large',
            img_size=224,
            patch_size=16,
            init_values=1e-5,
            # Stochastic depth stays active in the frozen ViT (reference).
            drop_path_rate=0.4,
            # `tools/model_converters/uni2mmpathseg.py` writes this file
            # from UNI's pytorch_model.bin (MahmoodLab/UNI, gated).
            init_cfg=dict(
                type='Pretrained',
                checkpoint='data/pretrained/uni_vit-l16.pth')),
        conv_inplane=64,
        num_points=4,
        deform_num_heads=8,
        deform_ratio=0.5,
        with_cffn=True,
        cffn_ratio=0.25,
        use_extra_extractor=True,
        interaction_indexes=[[0, 5], [6, 11], [12, 17], [18, 23]],
        drop_path_rate=0.4,
        init_values=1e-5,
        add_vit_feature=True,
        # Reference quirks, see CellVTAAdapter: the class token bypasses the
        # blocks (the tissue head sees a constant), and the deformable
        # attention's linear layers are re-initialised trunc-normal.
        cls_token_through_blocks=False,
        reinit_deform_attn_linear=True,
        # The ViT trunk is frozen for the whole schedule (CellVTA's
        # unfreeze_epoch lies beyond its last epoch); its final norm trains.
        freeze_vit=True,
        frozen_eval=False),
    decode_head=dict(in_channels=1024, skip_mode='conv'))
