# The twin's circuit, drawn from path patching run here, beside GPT-2 small's
# from the paper (Wang et al., 2022: cited, not measured by the course).
from mi_course import load_model, seed_everything
from mi_course.ioi import patching_case
from mi_course.path_patching import path_patch
from mi_course.plotting import graph, show

seed_everything(0)
model = load_model("gpt2-twin")
prompts, abc, metric = patching_case(model, 20)  # the path patching exercise's prompts
heads = [(layer, head) for layer in range(2) for head in range(4)]
to_logits = {
    head: path_patch(model, prompts.tokens, abc.tokens, [head], metric).item()
    for head in heads
}
layer_0 = [head for head in heads if head[0] == 0]
receivers = [(1, 0), (1, 3)]
from_layer_0 = {
    receiver: path_patch(
        model, prompts.tokens, abc.tokens, layer_0, metric, [receiver], ("q", "k", "v")
    ).item()
    for receiver in receivers
}
print("gpt2-twin, path patching clean into corrupted, on 20 prompts")
print(
    "to the logits:",
    "  ".join(f"{l}.{h} {round(v, 2) + 0.0:+.2f}" for (l, h), v in to_logits.items()),
)
for (layer, head), share in from_layer_0.items():
    print(f"into {layer}.{head} from all of layer 0, q/k/v together: {share:+.2f}")

# Nodes at (head, layer); the arrows are the paths that carry a tenth or more.
nodes = {f"{layer}.{head}": (head, layer) for layer, head in heads}
nodes |= {"logits": (1.5, 2.0), "layer 0 together": (1.5, -0.7)}
edges = [
    (f"{layer}.{head}", "logits", value)
    for (layer, head), value in to_logits.items()
    if abs(value) >= 0.1
]
edges += [
    ("layer 0 together", f"{layer}.{head}", share)
    for (layer, head), share in from_layer_0.items()
]
show(
    graph(
        nodes,
        edges,
        title="gpt2-twin: paths measured by path patching (20 prompts)",
        x_label="head",
        y_label="layer",
    )
)

# GPT-2 small, as the paper draws it: classes of heads by layer, main heads named.
paper = {
    "duplicate-token 0.1, 3.0": (0.0, 1.5),
    "previous-token 2.2, 4.11": (2.0, 3.0),
    "induction 5.5, 6.9": (2.0, 5.5),
    "S-inhibition 7.3, 7.9, 8.6, 8.10": (1.0, 8.0),
    "name movers 9.6, 9.9, 10.0": (0.0, 9.7),
    "negative name movers 10.7, 11.10": (2.0, 10.7),
    "logits": (1.0, 12.0),
}
paths = [
    ("previous-token 2.2, 4.11", "induction 5.5, 6.9", None),
    ("duplicate-token 0.1, 3.0", "S-inhibition 7.3, 7.9, 8.6, 8.10", None),
    ("induction 5.5, 6.9", "S-inhibition 7.3, 7.9, 8.6, 8.10", None),
    ("S-inhibition 7.3, 7.9, 8.6, 8.10", "name movers 9.6, 9.9, 10.0", None),
    ("name movers 9.6, 9.9, 10.0", "logits", None),
    ("negative name movers 10.7, 11.10", "logits", None),
]
show(
    graph(
        paper,
        paths,
        title="GPT-2 small: the IOI circuit of Wang et al. (2022), cited",
        x_label="classes of heads, side by side",
        y_label="layer",
    )
)
