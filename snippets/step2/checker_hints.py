# What the Step 2 checkers say about three plausible mistakes.
from einops import reduce

from mi_course import CheckerInputError, seed_everything
from mi_course.checkers import check_attention, check_layernorm, check_mlp
from mi_course.scratch import MLP, Attention, LayerNorm

seed_everything(0)


class EpsOutsideTheRoot(LayerNorm):
    def forward(self, residual):
        centred = residual - reduce(
            residual, "batch pos d_model -> batch pos 1", "mean"
        )
        std = reduce(centred.pow(2), "batch pos d_model -> batch pos 1", "mean").sqrt()
        return centred / (std + self.eps) * self.w + self.b


class NoCausalMask(Attention):
    @staticmethod
    def apply_causal_mask(scores):
        return scores  # every query sees every key, the future included


class DropsLastFeature(MLP):
    def forward(self, normalized_resid_mid):
        return super().forward(normalized_resid_mid)[..., :-1]


print(check_layernorm(EpsOutsideTheRoot))
print(check_attention(NoCausalMask))
try:
    check_mlp(DropsLastFeature)
except CheckerInputError as error:
    print(error)
