# Zero-shot evaluation through config only (paper Table 4, SyncSAM-SAMed-50
# on CURVAS CT: 93.0 DSC, box prompts): the SA-Med2D-trained model tested
# on a folder converted to the SA-Med2D layout (images/, masks/,
# label2image_test.json; see configs/syncsam/README.md). For another set,
# copy this file and change `data_root`:
#   python tools/test.py configs/syncsam/rn50-samed2d_zeroshot-curvas.py \
#       work_dirs/rn50_samed2d/epoch_12.pth
_base_ = ['./rn50_samed2d.py']
zero_shot_root = 'data/zero_shot/CURVAS'
test_dataloader = dict(
    dataset=dict(
        data_root=zero_shot_root,
        ann_file='label2image_test.json',
        check_files=True))
test_evaluator = dict(type='PromptDiceMetric', modes=('box', ))
