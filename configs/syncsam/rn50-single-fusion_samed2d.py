# Fusion ablation (paper Table 5, row 11: 84.9 vs 88.2 synchronized): the
# CNN enters once. The paper gives no further definition; here the four
# projected CNN features are summed and added before the last global block
# (same parameters as the synchronized model). Box prompts only, as the
# ablation table.
_base_ = ['./rn50_samed2d.py']
model = dict(image_encoder=dict(fusion='single'))
val_evaluator = dict(type='PromptDiceMetric', modes=('box', ))
test_evaluator = val_evaluator
