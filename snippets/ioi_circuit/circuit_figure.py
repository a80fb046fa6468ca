# The twin's circuit, drawn from path patching run here, beside GPT-2 small's
# from the paper (Wang et al., 2022: cited, not measured by the course).
from mi_course import load_model, seed_everything
from mi_course.ioi import patching_case
from mi_course.path_patching import path_patch
from mi_course.plotting import graph, show

seed_everything(0)
model = load_model("gpt2-twin")
heads = [(layer, head) for layer in range(2) for head in range(4)]
receivers = [(1, 0), (1, 3)]
# into the receivers, the layer-0 heads that carry anything (0.1 carries nothing, in
# the path patching exercise as in activation patching over draws)
senders = [(0, 0), (0, 2), (0, 3)]
# 5 draws of the path patching exercise's 20 prompts: a path is drawn only if it
# restores a tenth or more on average and something on every draw.
to_logits = {head: [] for head in heads}
into = {receiver: [] for receiver in receivers}
for seed in range(1, 6):
    prompts, abc, metric = patching_case(model, 20, seed=seed)
    for head in heads:
        share = path_patch(model, prompts.tokens, abc.tokens, [head], metric)
        to_logits[head].append(share.item())
    for receiver in receivers:
        share = path_patch(
            model, prompts.tokens, abc.tokens, senders, metric, [receiver],
            ("q", "k", "v"),
        )  # fmt: skip
        into[receiver].append(share.item())


def mean(values: list[float]) -> float:
    return sum(values) / len(values)


print("gpt2-twin, path patching clean into corrupted, 5 draws of 20 prompts:")
print("mean share restored (lowest draw)")
for (layer, head), values in to_logits.items():
    print(
        f"  {layer}.{head} to the logits: "
        f"{round(mean(values), 2) + 0.0:+.2f} ({round(min(values), 2) + 0.0:+.2f})"
    )
for (layer, head), values in into.items():
    print(
        f"  0.0, 0.2, 0.3 together into {layer}.{head}, q/k/v: "
        f"{round(mean(values), 2) + 0.0:+.2f} ({round(min(values), 2) + 0.0:+.2f})"
    )

# Nodes at (head, layer); the arrows are the paths that pass.
nodes = {f"{layer}.{head}": (head, layer) for layer, head in heads}
nodes |= {"logits": (1.5, 2.0), "0.0, 0.2, 0.3 together": (1.5, -0.7)}
edges = [
    (f"{layer}.{head}", "logits", mean(values))
    for (layer, head), values in to_logits.items()
    if mean(values) >= 0.1 and min(values) > 0
]
edges += [
    ("0.0, 0.2, 0.3 together", f"{layer}.{head}", mean(values))
    for (layer, head), values in into.items()
]
twin = graph(
    nodes,
    edges,
    title="gpt2-twin: paths measured by path patching (5 draws of 20)",
    x_label="head",
    y_label="",
)
# each arrow's number: the mean share of the gap its path restores
twin.update_yaxes(tickvals=[0, 1, 2], ticktext=["layer 0", "layer 1", "logits"])
show(twin)

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
