# MLMoE: Ariadne's Thread with each guide stage's text projection replaced by
# a mixture of N text experts (f_t^i = ReLU(Conv1x1(f_t W_i))) routed per
# sample by softmax(Linear([pool(f_t); pool(f_v)]) / tau), tau learnable;
# loss Dice + CE + diversity (E[H(g)] - H(E[g])). MLMoE has no public code:
# the placement (every guide stage), the pooling and tau = exp(log_tau) are
# our reading of the paper (see configs/mlmoe/README.md).
_base_ = ['./ariadne_convnext-t.py']
num_experts = 4
model = dict(
    decode_head=dict(
        text_projection=dict(
            _delete_=True,
            type='TextMoE',
            num_experts=num_experts,
            use_visual=True,
            init_temperature=1.0,
            learnable_temperature=True),
        loss_decode=[
            dict(type='SoftDiceLoss', loss_name='loss_dice'),
            # "CE" of a one-channel head: binary cross-entropy on logits.
            dict(
                type='mmseg.CrossEntropyLoss',
                use_sigmoid=True,
                avg_non_ignore=True,
                loss_weight=1.0,
                loss_name='loss_ce'),
        ],
        loss_diversity=dict(type='GateDiversityLoss', loss_weight=1.0)))
