# The "without text" twin of mlmoe-tiny_xray-demo.py: same network, data,
# seed and schedule, but the guide layers never run (text_mode='none'), so
# it sees the image only.
_base_ = ['./mlmoe-tiny_xray-demo.py']
model = dict(train_cfg=dict(text_mode='none'), test_cfg=dict(text_mode='none'))
