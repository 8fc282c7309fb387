default_scope = 'mmpathseg'
env_cfg = dict(
    cudnn_benchmark=True,
    mp_cfg=dict(mp_start_method='fork', opencv_num_threads=0),
    # `tools/train.py` switches to gloo on machines without a GPU.
    dist_cfg=dict(backend='nccl'),
)
vis_backends = [dict(type='LocalVisBackend')]
# No fixed `name`: the runner names the visualizer after the experiment, so two
# runs in one process (tests, notebooks) do not log into each other's work dir.
# mmseg's SegLocalVisualizer plus instances (nuclei filled in the colour of
# their type and outlined); class maps are drawn as mmseg draws them.
visualizer = dict(
    type='PathSegLocalVisualizer', vis_backends=vis_backends)
log_processor = dict(by_epoch=False)
log_level = 'INFO'
load_from = None
resume = False

tta_model = dict(type='SegTTAModel')
