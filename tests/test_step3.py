"""Step 3: head scores, hooks, interventions, and the exercise checkers (which must reject plausible mistakes)."""

import inspect
from pathlib import Path

import pytest
import torch

from mi_course import CheckerInputError, attribution, induction, interventions, load_model, model_card, plotly_exercises
from mi_course.checkers import STEP_CHECKS, check_induction_score, check_mean_ablation_hook, check_plotly_figures
from mi_course.checkers.step3 import (
    check_ablation_sweep,
    check_head_detectors,
    check_induction_score_hook,
    check_logit_attribution,
    check_normalised_metric,
    check_patch_by_position,
)
from mi_course.hooks import UnknownHookError, check_hook_names
from mi_course.induction import head_scores, induction_scores, name_heads, repeated_half_loss, repeated_random_tokens
from mi_course.interventions import mean_ablation_hook, patch_by_position, token_losses, zero_ablation_hook
from site_tools.pages import SECTION_MARKER, Snippet

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def induction_model():
    return load_model("induction-2l", device="cpu")


@pytest.fixture(scope="module")
def shakespeare():
    return load_model("shakespeare-char", device="cpu")


def repeated(model, seq_len=13, batch=64, seed=1):
    bos = model.cfg.d_vocab - 1
    return repeated_random_tokens(batch, seq_len, bos, bos, generator=torch.Generator().manual_seed(seed))


def test_the_heads_the_page_names_are_the_heads_measured(induction_model, shakespeare):
    induction = head_scores(induction_model, repeated(induction_model), 13)
    assert (
        name_heads(induction["induction"], 0.4) == model_card("induction-2l").metrics["induction_heads"]
    )  # retrained at times
    scores = head_scores(shakespeare, repeated(shakespeare), 13)
    assert name_heads(scores["induction"], 0.4) == model_card("shakespeare-char").metrics["induction_heads"]
    assert name_heads(scores["previous-token"], 0.4) == ["0.3"]
    assert name_heads(scores["duplicate-token"], 0.4) == []


def test_scores_refuse_tokens_that_do_not_repeat(induction_model):
    tokens = repeated(induction_model)
    tokens[:, -1] = (tokens[:, -1] + 1) % 50
    for measure in (head_scores, induction_scores, repeated_half_loss):
        with pytest.raises(ValueError, match="the tokens do not repeat after 13 tokens"):
            measure(induction_model, tokens, 13)
    with pytest.raises(ValueError, match=r"expected tokens of shape \(batch, 21\) for seq_len=10"):
        induction_scores(induction_model, repeated(induction_model), 10)


def test_a_misspelt_hook_name_gets_the_closest_valid_ones(induction_model):
    with pytest.raises(
        UnknownHookError,
        match=r"no hook named 'blocks.1.attn.hook_patern' on this model; did you mean blocks.1.attn.hook_pattern",
    ):
        check_hook_names(induction_model, ["blocks.1.attn.hook_patern"])
    check_hook_names(
        induction_model, ["blocks.1.attn.hook_z", "blocks.0.hook_resid_pre", "hook_embed"]
    )  # TL 3 aliases are valid
    tokens = repeated(induction_model)
    with pytest.raises(UnknownHookError, match="did you mean blocks.1.attn.hook_z"):
        repeated_half_loss(induction_model, tokens, 13, [("blocks.1.attn.hook_zz", zero_ablation_hook([0]))])


def test_ablating_the_induction_heads_raises_the_loss_on_the_repeat(induction_model):
    tokens = repeated(induction_model)
    clean = repeated_half_loss(induction_model, tokens, 13)
    zeroed = repeated_half_loss(
        induction_model, tokens, 13, [("blocks.1.attn.hook_z", zero_ablation_hook([0, 1, 2, 3]))]
    )
    meaned = repeated_half_loss(
        induction_model, tokens, 13, [("blocks.1.attn.hook_z", mean_ablation_hook([0, 1, 2, 3]))]
    )
    assert clean < 0.5 and zeroed > 3.0 and meaned > 3.0


def test_token_losses_agree_with_the_repeated_half_loss_and_refuse_bad_tokens(induction_model):
    tokens = repeated(induction_model)
    hooks = [("blocks.1.attn.hook_z", zero_ablation_hook([0, 1, 2, 3]))]
    for fwd_hooks in ([], hooks):
        per_token = token_losses(induction_model, tokens, fwd_hooks)
        assert per_token.shape == (tokens.shape[0], tokens.shape[1] - 1)
        assert per_token[:, 14:].mean().item() == pytest.approx(
            repeated_half_loss(induction_model, tokens, 13, fwd_hooks), rel=1e-5
        )
    with pytest.raises(
        ValueError,
        match=r"expected integer tokens of shape \(batch, pos\) with pos >= 2, got torch.float32 of shape \(2, 5\)",
    ):
        token_losses(induction_model, torch.zeros(2, 5))
    with pytest.raises(ValueError, match=r"got torch.int64 of shape \(5,\)"):
        token_losses(induction_model, torch.zeros(5, dtype=torch.long))
    with pytest.raises(UnknownHookError, match="did you mean blocks.1.attn.hook_z"):
        token_losses(induction_model, tokens, [("blocks.1.attn.hook_zz", zero_ablation_hook([0]))])


def test_ablation_hooks_change_only_the_listed_heads():
    z = torch.randn(4, 5, 3, 2, generator=torch.Generator().manual_seed(0))
    zeroed = zero_ablation_hook([1])(z.clone(), None)
    assert torch.equal(zeroed[:, :, 1], torch.zeros(4, 5, 2)) and torch.equal(zeroed[:, :, [0, 2]], z[:, :, [0, 2]])
    meaned = mean_ablation_hook([1])(z.clone(), None)
    assert torch.allclose(meaned[:, :, 1], z[:, :, 1].mean(0, keepdim=True).expand(4, 5, 2))
    assert torch.equal(meaned[:, :, [0, 2]], z[:, :, [0, 2]])


def test_patching_finds_the_induction_circuit(induction_model):
    clean = repeated(induction_model, seq_len=8, batch=1, seed=0)
    corrupted = clean.clone()
    corrupted[0, 3] = (clean[0, 3] + 1) % 50
    query, answer = 11, clean[0, 12].item()
    names = ["blocks.0.hook_resid_pre", "blocks.1.hook_resid_pre", "blocks.1.hook_resid_post"]
    results = patch_by_position(
        induction_model, clean, corrupted, names, lambda logits: logits[0, query, answer].item()
    )
    # The changed token itself, then the position after it (where the previous-token head copied it), then the query.
    assert results.argmax(dim=1).tolist() == [3, 4, 11]
    same = patch_by_position(induction_model, clean, clean, names[:1], lambda logits: logits[0, query, answer].item())
    assert torch.allclose(same, same[0, 0].expand_as(same))
    with pytest.raises(ValueError, match="expected clean and corrupted tokens of one shape"):
        patch_by_position(induction_model, clean, clean[:, :-1], names, lambda logits: 0.0)


def reference_score(pattern, seq_len):
    queries = torch.arange(seq_len + 1, 2 * seq_len + 1)
    return pattern[:, :, queries, queries - seq_len + 1].mean(dim=(0, 2))


def stripe(offset):
    def score(pattern, seq_len):
        queries = torch.arange(seq_len + 1, 2 * seq_len + 1)
        return pattern[:, :, queries, queries - offset(seq_len)].mean(dim=(0, 2))

    return score


@pytest.mark.parametrize(
    ("wrong", "hint"),
    [
        (stripe(lambda L: L), "that is the duplicate-token stripe"),
        (stripe(lambda L: 1), "that is the previous-token stripe"),
        (
            lambda p, L: torch.diagonal(p, offset=-(L - 1), dim1=-2, dim2=-1).mean(dim=(0, 2)),
            "average only over queries in the second copy",
        ),
        (lambda p, L: reference_score(p, L) * p.shape[0] * L, "you summed"),
        (lambda p, L: reference_score(p, L) * 0.9, "averaged over the batch and over q from L + 1 to 2L"),
        (lambda p, L: reference_score(p, 7), "with L = 9, differs from the reference by 0.14; you used L = 7"),
    ],
)
def test_the_induction_score_checker_names_each_mistake(wrong, hint):
    report = check_induction_score(wrong)
    assert not report.passed and hint in str(report)


def test_the_induction_score_checker_passes_the_reference_and_rejects_a_wrong_shape():
    report = check_induction_score(reference_score)
    assert report.passed and "patterns: 3 sequences, 4 heads, L = 7; 2 sequences, 5 heads, L = 9" in str(report)
    with pytest.raises(CheckerInputError, match=r"induction_score: expected shape \(4,\) .* got \(3, 4\)"):
        check_induction_score(lambda p, L: p[:, :, torch.arange(L + 1, 2 * L + 1), torch.arange(2, L + 2)].mean(dim=2))


def mean_hook_variant(edit):
    def make(heads):
        def hook(z, hook):
            z = z.clone()
            edit(z, heads)
            return z

        return hook

    return make


@pytest.mark.parametrize(
    ("wrong", "hint"),
    [
        (lambda heads: lambda z, hook: None, "z came back unchanged"),
        (lambda heads: zero_ablation_hook(heads), "that is zero ablation"),
        (lambda heads: mean_ablation_hook([h for h in range(4) if h not in heads]), "you ablated the other heads"),
        (
            mean_hook_variant(
                lambda z, h: z.__setitem__((slice(None), slice(None), h), z[:, :, h].mean(dim=(0, 1), keepdim=True))
            ),
            "take the mean over the batch only",
        ),
        (
            mean_hook_variant(
                lambda z, h: z.__setitem__((slice(None), slice(None), h), z[:, :, h].mean(dim=2, keepdim=True))
            ),
            "not the listed heads together",
        ),
        (
            mean_hook_variant(lambda z, h: z.__setitem__((slice(None), h), z[:, h].mean(dim=0, keepdim=True))),
            "you indexed positions",
        ),
        (
            lambda heads: mean_ablation_hook([0, 2]),
            "with heads [1], differs from the reference by 2.5; you ablated heads [0, 2]",
        ),
        (
            mean_hook_variant(lambda z, h: z.__setitem__((slice(None), slice(None), 3), z[:, :, 3].mean(dim=0))),
            "with heads [0, 2], differs from the reference by 2.7; you ablated heads [3]",
        ),  # hard-codes another head set
    ],
)
def test_the_mean_ablation_checker_names_each_mistake(wrong, hint):
    report = check_mean_ablation_hook(wrong)
    assert not report.passed and hint in str(report)


def test_the_mean_ablation_checker_passes_the_reference_and_rejects_bad_input():
    report = check_mean_ablation_hook(mean_ablation_hook)
    assert report.passed and "heads [0, 2], [1], [3] and [1, 2, 3]" in str(report)
    with pytest.raises(CheckerInputError, match=r"the hook: expected shape \(5, 6, 4, 3\) .* got \(6, 4, 3\)"):
        check_mean_ablation_hook(lambda heads: lambda z, hook: z.mean(0))
    with pytest.raises(CheckerInputError, match="should return a hook function, got int"):
        check_mean_ablation_hook(lambda heads: 3)


# Which solution snippet shows each function the step3 check may judge, and under which section of the package.
SOLUTIONS = {
    "induction_score": ("step3/induction_score_solution.py", "mi_course/induction.py:induction-score"),
    "mean_ablation_hook": ("step3/mean_ablation_solution.py", "mi_course/interventions.py:mean-ablation-hook"),
    **{
        name: ("step3/head_detectors_solution.py", "mi_course/induction.py:head-detectors")
        for name in ("previous_token_score", "duplicate_token_score", "first_token_score")
    },
    "induction_score_hook": ("step3/induction_score_hook_solution.py", "mi_course/induction.py:induction-score-hook"),
    "ablation_sweep": ("step3/ablation_sweep_solution.py", "mi_course/interventions.py:ablation-sweep"),
    "patch_by_position": ("step3/patch_by_position_solution.py", "mi_course/interventions.py:patch-by-position"),
    "normalised_metric": ("step3/patch_by_position_solution.py", "mi_course/interventions.py:normalised-metric"),
    "logit_attribution": ("step3/logit_attribution_solution.py", "mi_course/attribution.py:logit-attribution"),
    **{
        name: ("step3/plotly_solution.py", f"mi_course/plotly_exercises.py:{name.replace('_', '-')}")
        for name in ("loss_curves", "head_scatter", "attention_heatmap")
    },
}
TAUGHT = {
    "induction_score": induction.induction_score,
    "mean_ablation_hook": interventions.mean_ablation_hook,
    "previous_token_score": induction.previous_token_score,
    "duplicate_token_score": induction.duplicate_token_score,
    "first_token_score": induction.first_token_score,
    "induction_score_hook": induction.induction_score_hook,
    "ablation_sweep": interventions.ablation_sweep,
    "patch_by_position": interventions.patch_by_position,
    "normalised_metric": interventions.normalised_metric,
    "logit_attribution": attribution.logit_attribution,
    "loss_curves": plotly_exercises.loss_curves,
    "head_scatter": plotly_exercises.head_scatter,
    "attention_heatmap": plotly_exercises.attention_heatmap,
}


def test_the_courses_solutions_pass_every_checker():
    """Each checker passes the package's function, the solution its page shows."""
    reports = [
        check_induction_score(induction.induction_score),
        check_mean_ablation_hook(interventions.mean_ablation_hook),
        check_head_detectors(
            induction.previous_token_score, induction.duplicate_token_score, induction.first_token_score
        ),
        check_induction_score_hook(induction.induction_score_hook),
        check_ablation_sweep(interventions.ablation_sweep),
        check_patch_by_position(interventions.patch_by_position),
        check_normalised_metric(interventions.normalised_metric),
        check_logit_attribution(attribution.logit_attribution),
        check_plotly_figures(
            plotly_exercises.loss_curves, plotly_exercises.head_scatter, plotly_exercises.attention_heatmap
        ),
    ]
    assert all(report.passed for report in reports), "\n".join(map(str, reports))
    assert [result.name for report in reports for result in report.results] == list(TAUGHT)


def test_the_step3_check_passes_what_it_judges():
    step = STEP_CHECKS["step3"]
    report = step.run()  # checks the package's own functions, those registered as taught
    assert report.passed and [result.name for result in report.results] == list(step.taught_objects()), str(report)


def as_shown(taught) -> str:
    """The source of a function of mi_course as a page shows it: no input-checking decorator, no section markers."""
    lines = inspect.getsource(taught).split("\n")
    return "\n".join(line for line in lines if not line.startswith("@") and not SECTION_MARKER.match(line))


def test_the_step3_check_judges_exactly_the_code_the_pages_solutions_show():
    """`check step3` runs no snippet: it is honest only if the page's solutions are the package's functions, included."""
    step = STEP_CHECKS["step3"]
    assert set(step.taught_objects()) <= set(TAUGHT) and all(
        step.taught_objects()[name] is TAUGHT[name] for name in step.taught_objects()
    )
    assert step.solution_paths() == []
    for name, taught in TAUGHT.items():
        path, section = SOLUTIONS[name]
        snippet = Snippet(path, ROOT)
        assert (
            section in snippet.includes and section.split(":")[0] == f"mi_course/{taught.__module__.split('.')[-1]}.py"
        )
        assert as_shown(taught) in snippet.script and snippet.script.count(f"def {name}(") == 1


@pytest.mark.parametrize(
    "name",
    sorted(
        {path for path, _ in SOLUTIONS.values()}
        - {"step3/induction_score_solution.py", "step3/mean_ablation_solution.py"}
    ),
)
def test_each_new_stub_names_the_functions_its_solution_shows_and_fails_in_one_line(name):
    solution = Snippet(name, ROOT)
    stub = (ROOT / "snippets" / name.replace("_solution", "_stub")).read_text()
    shown = [function for function, (path, _) in SOLUTIONS.items() if path == name]
    for function in shown:
        assert f"def {function}(" in stub and 'raise NotImplementedError("fill in' in stub
        assert stub.count(f"def {function}(") == solution.script.count(f"def {function}(") == 1


# --- head detectors -------------------------------------------------------------------------------------------------


def previous_stripe(offset, start=2):
    def score(pattern):
        queries = torch.arange(start, pattern.shape[-1])
        return pattern[:, :, queries, queries - offset].mean(dim=(0, 2))

    return score


def duplicate_variant(keys="earlier", over="repeats", combine="sum"):
    def score(pattern, tokens):
        same = tokens[:, :, None] == tokens[:, None, :]
        mask = {
            "earlier": same.tril(diagonal=-1),
            "itself": same.tril(),
            "other": same & ~torch.eye(tokens.shape[1], dtype=torch.bool),
        }[keys]
        attention = (pattern * mask[:, None]).sum(dim=-1)
        if combine == "mean":
            attention = attention / mask.sum(dim=-1).clamp(min=1)[:, None]
        if over == "all":
            return attention.mean(dim=(0, 2))
        queries = mask.any(dim=-1)
        if over == "per-sequence":
            return ((attention * queries[:, None]).sum(dim=-1) / queries.sum(dim=-1)[:, None]).mean(dim=0)
        return attention.transpose(0, 1)[:, queries].mean(dim=1)

    return score


RIGHT = {
    "previous_token_score": induction.previous_token_score,
    "duplicate_token_score": induction.duplicate_token_score,
    "first_token_score": induction.first_token_score,
}


@pytest.mark.parametrize(
    ("name", "wrong", "hint"),
    [
        (
            "previous_token_score",
            previous_stripe(1, start=1),
            "start at query 2: the token at position 1 has only BOS before it",
        ),
        ("previous_token_score", previous_stripe(2), "off by one: the token before query q is key q - 1, not q - 2"),
        ("previous_token_score", previous_stripe(0), "that is the attention of each query to itself"),
        (
            "previous_token_score",
            lambda p: p[:, :, torch.arange(1, p.shape[-1] - 1), torch.arange(2, p.shape[-1])].mean(dim=(0, 2)),
            "every score is 0: pattern[b, h, q, k] is attention from query q to key k <= q",
        ),
        ("previous_token_score", lambda p: previous_stripe(1)(p) * p.shape[0] * (p.shape[-1] - 2), "you summed"),
        ("duplicate_token_score", duplicate_variant(keys="itself"), "a token always matches itself"),
        ("duplicate_token_score", duplicate_variant(keys="other"), "count only earlier copies (k < q)"),
        (
            "duplicate_token_score",
            duplicate_variant(over="all"),
            "average only over the queries whose token appeared before",
        ),
        ("duplicate_token_score", duplicate_variant(combine="mean"), "you averaged over them"),
        ("duplicate_token_score", duplicate_variant(over="per-sequence"), "you averaged each sequence first"),
        (
            "duplicate_token_score",
            lambda p, t: induction.duplicate_token_score(p, t) * 0.9,
            "for each query whose token appeared before",
        ),
        (
            "first_token_score",
            lambda p: p[:, :, :, 0].mean(dim=(0, 2)),
            "leave out query 0: BOS can attend only to itself",
        ),
        (
            "first_token_score",
            lambda p: p[:, :, 0, :].mean(dim=(0, 2)),
            "you averaged the BOS query's row over the keys",
        ),
        ("first_token_score", lambda p: p[:, :, 1:, 0].sum(dim=(0, 2)), "you summed"),
    ],
)
def test_the_head_detector_checker_names_each_mistake(name, wrong, hint):
    report = check_head_detectors(**{**RIGHT, name: wrong})
    verdicts = {result.name: result for result in report.results}
    assert not verdicts[name].passed and hint in str(verdicts[name]), str(report)
    assert all(
        result.passed for other, result in verdicts.items() if other != name
    )  # each function is judged on its own


# --- the induction score hook ---------------------------------------------------------------------------------------


def score_hook_variant(write=None, returns=None):
    def make(seq_len, scores):
        def hook(pattern, hook):
            (write or (lambda s, layer, value: s.__setitem__(layer, value)))(
                scores, hook.layer(), induction.induction_score(pattern, seq_len)
            )
            return returns(pattern) if returns else None

        return hook

    return make


def previous_token_hook(seq_len, scores):
    def hook(pattern, hook):
        scores[hook.layer()] = induction.SCORES["previous-token"](pattern, seq_len)

    return hook


def copied_scores_hook(seq_len, scores):
    scores = scores.clone()  # writes into a copy, which the caller never sees

    def hook(pattern, hook):
        scores[hook.layer()] = induction.induction_score(pattern, seq_len)

    return hook


@pytest.mark.parametrize(
    ("wrong", "hint"),
    [
        (score_hook_variant(returns=lambda pattern: pattern * 0.5), "the hook changed the run: the logits moved by"),
        (score_hook_variant(returns=lambda pattern: pattern.mul_(0.5)), "must leave the pattern as it is"),
        (
            score_hook_variant(write=lambda s, layer, value: s.__setitem__(layer - 1, value)),
            "you wrote layer L's scores into another row",
        ),
        (score_hook_variant(write=lambda s, layer, value: s.__setitem__(0, value)), "every layer wrote into row 0"),
        (
            score_hook_variant(write=lambda s, layer, value: s.__setitem__(slice(None), value)),
            "every row holds the last layer's scores",
        ),
        (previous_token_hook, "that is the previous-token stripe"),
        (copied_scores_hook, "scores stayed 0: write into the tensor you were given"),
    ],
)
def test_the_induction_score_hook_checker_names_each_mistake(wrong, hint):
    report = check_induction_score_hook(wrong)
    assert not report.passed and hint in str(report), str(report)


# --- the ablation sweep ---------------------------------------------------------------------------------------------


def sweep_variant(
    heads_of=lambda head, n_heads: [head],
    mean_dims=(0,),
    kind_of=lambda kind: kind,
    result=lambda ablated, clean: ablated - clean,
):
    def sweep(model, tokens, metric, kind):
        kind = kind_of(kind)

        def make_hook(heads):
            def hook(z, hook):
                z = z.clone()
                z[:, :, heads] = 0.0 if kind == "zero" else z[:, :, heads].mean(dim=mean_dims, keepdim=True)
                return z

            return hook

        clean = metric(model(tokens))
        changes = torch.zeros(model.cfg.n_layers, model.cfg.n_heads)
        for layer in range(model.cfg.n_layers):
            for head in range(model.cfg.n_heads):
                hooks = [(f"blocks.{layer}.attn.hook_z", make_hook(heads_of(head, model.cfg.n_heads)))]
                changes[layer, head] = result(metric(model.run_with_hooks(tokens, fwd_hooks=hooks)), clean)
        return changes

    return sweep


@pytest.mark.parametrize(
    ("wrong", "hint"),
    [
        (
            sweep_variant(heads_of=lambda head, n_heads: list(range(n_heads))),
            "you ablated all the heads of the layer at once",
        ),
        (
            sweep_variant(mean_dims=(1,)),
            "take the mean over the batch (dim 0), position by position, not over the positions (dim 1)",
        ),
        (sweep_variant(mean_dims=(0, 1)), "not over positions too"),
        (sweep_variant(result=lambda ablated, clean: ablated), "that is the ablated run's metric: return its change"),
        (sweep_variant(result=lambda ablated, clean: clean - ablated), "the sign is flipped"),
        (sweep_variant(kind_of=lambda kind: "zero"), "that is zero ablation: kind='mean' asks for mean ablation"),
        (sweep_variant(kind_of=lambda kind: "mean"), "with kind='zero' and 4 sequences, differs from the reference"),
    ],
)
def test_the_ablation_sweep_checker_names_each_mistake(wrong, hint):
    report = check_ablation_sweep(wrong)
    assert not report.passed and hint in str(report), str(report)


# --- activation patching and the normalised metric ------------------------------------------------------------------


def patching_variant(positions_of=lambda position: position, heads_of=lambda head: head, swap=False, in_place=False):
    def patch_by_position(model, clean_tokens, corrupted_tokens, hook_names, metric, head=None):
        if swap:
            clean_tokens, corrupted_tokens = corrupted_tokens, clean_tokens
        _, clean_cache = model.run_with_cache(clean_tokens)
        _, corrupted_cache = model.run_with_cache(corrupted_tokens)
        results = torch.zeros(len(hook_names), clean_tokens.shape[1])
        for row, name in enumerate(hook_names):
            for position in range(clean_tokens.shape[1]):
                chosen = heads_of(head)
                where = (
                    (slice(None), positions_of(position))
                    if chosen is None
                    else (slice(None), positions_of(position), chosen)
                )
                if in_place:
                    patched = corrupted_cache[name]  # forgot .clone(): edits the cached tensor itself
                    patched[where] = clean_cache[name][where]
                    hook = lambda activation, hook, patched=patched: patched  # noqa: E731
                else:

                    def hook(activation, hook, where=where, name=name):
                        activation = activation.clone()
                        activation[where] = clean_cache[name][where]
                        return activation

                results[row, position] = metric(model.run_with_hooks(corrupted_tokens, fwd_hooks=[(name, hook)]))
        return results

    return patch_by_position


@pytest.mark.parametrize(
    ("wrong", "hint"),
    [
        (patching_variant(swap=True), "you patched the corrupted activation into the clean run"),
        (patching_variant(positions_of=lambda position: slice(None)), "you patched every position at once"),
        (patching_variant(in_place=True), "your patches add up: position p's run also had positions 0..p-1 patched"),
        (
            patching_variant(heads_of=lambda head: None),
            "with hooks blocks.0.attn.hook_z, blocks.1.attn.hook_z, head 2, ",
        ),
        (patching_variant(heads_of=lambda head: None), "you patched every head at that position"),
        (
            patching_variant(positions_of=lambda position: max(position - 1, 0)),
            "entry [i, p] is metric(the corrupted run with the clean",
        ),
    ],
)
def test_the_patching_checker_names_each_mistake(wrong, hint):
    report = check_patch_by_position(wrong)
    assert not report.passed and hint in str(report), str(report)


def normalised_variant(rescale):
    def normalised_metric(metric, clean_logits, corrupted_logits):
        clean, corrupted = metric(clean_logits), metric(corrupted_logits)
        return lambda logits: rescale(metric(logits), clean, corrupted)

    return normalised_metric


@pytest.mark.parametrize(
    ("wrong", "hint"),
    [
        (normalised_variant(lambda value, clean, corrupted: value), "that is the metric itself: rescale it"),
        (
            normalised_variant(lambda value, clean, corrupted: (value - clean) / (corrupted - clean)),
            "clean and corrupted are swapped",
        ),
        (normalised_variant(lambda value, clean, corrupted: value - corrupted), "divide by the gap, clean - corrupted"),
        (normalised_variant(lambda value, clean, corrupted: value / clean), "subtract the corrupted run's score first"),
        (
            normalised_variant(lambda value, clean, corrupted: (value - clean) / (clean - corrupted)),
            "not the clean one's",
        ),
    ],
)
def test_the_normalised_metric_checker_names_each_mistake(wrong, hint):
    report = check_normalised_metric(wrong)
    assert not report.passed and hint in str(report), str(report)


# --- logit attribution ----------------------------------------------------------------------------------------------


def attribution_variant(scale=True, single=False, fixed_pos=None, unembed_bias=True):
    def logit_attribution(model, cache, answer, rival, pos=-1):
        pos = pos if fixed_pos is None else fixed_pos
        heads, head_labels = cache.stack_head_results(layer=-1, pos_slice=pos, return_labels=True)
        others, other_labels = cache.decompose_resid(mode="mlp", pos_slice=pos, return_labels=True)
        stack = torch.cat([heads, others, model.b_O.sum(dim=0).expand(1, heads.shape[1], -1)])
        if scale:
            stack = cache.apply_ln_to_stack(stack, layer=-1, pos_slice=pos)
        direction = model.W_U[:, answer] - (0 if single else model.W_U[:, rival])
        contributions = stack @ direction
        if unembed_bias:
            contributions[-1] += model.b_U[answer] - (0 if single else model.b_U[rival])
        return contributions, head_labels + other_labels + ["biases"]

    return logit_attribution


@pytest.mark.parametrize(
    ("wrong", "hint"),
    [
        (attribution_variant(scale=False), "the parts do not go through the final LayerNorm: divide each by its scale"),
        (attribution_variant(scale=False), "but its logit difference is"),  # the sum rule fails first, and says so
        (attribution_variant(single=True), "that is logit(answer) alone: attribute the difference"),
        (attribution_variant(fixed_pos=-1), "on shakespeare-char at pos=9"),
        (attribution_variant(fixed_pos=-1), "you attributed at position -1: use pos"),
        (attribution_variant(unembed_bias=False), "the biases part misses the unembedding's bias"),
    ],
)
def test_the_logit_attribution_checker_names_each_mistake(wrong, hint):
    report = check_logit_attribution(wrong)
    assert not report.passed and hint in str(report), str(report)
