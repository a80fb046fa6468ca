# A linear probe for "inside a speaker's name", checked, then fitted at each layer of shakespeare-char beside two baselines.
import torch
import torch.nn.functional as F
from jaxtyping import Float
from torch import Tensor, nn

from mi_course import load_model, seed_everything
from mi_course.checkers.features import check_probe
from mi_course.probes import balanced_positions, random_model_like
from mi_course.residual_sae import residual_activations
from mi_course.text_labels import speaker_name, text_windows, uppercase

seed_everything(0)


--8<-- "mi_course/probes.py:train-probe"


--8<-- "mi_course/probes.py:probe-accuracy"


print(check_probe(train_probe, probe_accuracy))

model, untrained = load_model("shakespeare-char", device="cpu"), random_model_like("shakespeare-char")
# Capital letters only, half inside a speaker's name ("FIRST SOLDIER.") and half elsewhere: the letter itself cannot tell.
data = {}
for split, windows, seed in (("training", 1_000, 0), ("held-out", 300, 1)):
    tokens, text = text_windows(split, windows)
    positions, labels = balanced_positions(uppercase(text) & speaker_name(text), uppercase(text) & ~speaker_name(text), seed=seed)
    data[split] = tokens, positions, labels
shuffled = data["training"][2][torch.randperm(len(data["training"][2]), generator=torch.Generator().manual_seed(2))]
print(f"{len(data['training'][2])} training and {len(data['held-out'][2])} held-out capitals; chance 50%")
print("held-out accuracy      trained model  shuffled labels  random model")
(train_tokens, train_positions, train_labels), (test_tokens, test_positions, test_labels) = data["training"], data["held-out"]
for hook in [f"blocks.{layer}.hook_resid_pre" for layer in range(model.cfg.n_layers)] + [f"blocks.{model.cfg.n_layers - 1}.hook_resid_post"]:
    scores = []
    for candidate, label_sets in ((model, (train_labels, shuffled)), (untrained, (train_labels,))):
        train_x = residual_activations(candidate, train_tokens, hook)[train_positions]
        test_x = residual_activations(candidate, test_tokens, hook)[test_positions]
        scores += [probe_accuracy(train_probe(train_x, labels), test_x, test_labels) for labels in label_sets]
    print(f"{hook:<24}" + "".join(f"{score:>15.1%}" for score in scores))
