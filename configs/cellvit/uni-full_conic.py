# CellViT-UNI with full fine-tuning on CoNIC ("Full" in the CellVTA paper's
# Table 5): CellViT's unfreeze schedule, encoder frozen for epochs 0-24 and
# trained from epoch 25 (the paper does not say more; one process only).
_base_ = ['./uni_conic.py']
custom_hooks = [dict(type='BackboneUnfreezeHook', unfreeze_epoch=25)]
