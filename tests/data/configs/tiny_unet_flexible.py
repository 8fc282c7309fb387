# tiny_unet.py under mmengine's FlexibleRunner. Without `strategy` it trains
# on one device with --launcher none and with DDPStrategy under torchrun.
_base_ = ['./tiny_unet.py']

runner_type = 'FlexibleRunner'
