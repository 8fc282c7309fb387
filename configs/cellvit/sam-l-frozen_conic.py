# CellViT-SAM-L with the encoder frozen throughout on CoNIC ("Frozen" in the
# CellVTA paper's Table 5).
_base_ = ['./sam-l_conic.py']
custom_hooks = []
