"""Step 3: head scores, hooks, interventions, and the exercise checkers (which must reject plausible mistakes)."""

import inspect
from pathlib import Path

import pytest
import torch

from mi_course import CheckerInputError, induction, interventions, load_model, model_card
from mi_course.checkers import STEP_CHECKS, check_induction_score, check_mean_ablation_hook
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
    assert name_heads(induction["induction"], 0.4) == ["1.1", "1.2", "1.0", "1.3"]
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
    with pytest.raises(UnknownHookError, match=r"no hook named 'blocks.1.attn.hook_patern' on this model; did you mean blocks.1.attn.hook_pattern"):
        check_hook_names(induction_model, ["blocks.1.attn.hook_patern"])
    check_hook_names(induction_model, ["blocks.1.attn.hook_z", "blocks.0.hook_resid_pre", "hook_embed"])  # TL 3 aliases are valid
    tokens = repeated(induction_model)
    with pytest.raises(UnknownHookError, match="did you mean blocks.1.attn.hook_z"):
        repeated_half_loss(induction_model, tokens, 13, [("blocks.1.attn.hook_zz", zero_ablation_hook([0]))])


def test_ablating_the_induction_heads_raises_the_loss_on_the_repeat(induction_model):
    tokens = repeated(induction_model)
    clean = repeated_half_loss(induction_model, tokens, 13)
    zeroed = repeated_half_loss(induction_model, tokens, 13, [("blocks.1.attn.hook_z", zero_ablation_hook([0, 1, 2, 3]))])
    meaned = repeated_half_loss(induction_model, tokens, 13, [("blocks.1.attn.hook_z", mean_ablation_hook([0, 1, 2, 3]))])
    assert clean < 0.5 and zeroed > 3.0 and meaned > 3.0


def test_token_losses_agree_with_the_repeated_half_loss_and_refuse_bad_tokens(induction_model):
    tokens = repeated(induction_model)
    hooks = [("blocks.1.attn.hook_z", zero_ablation_hook([0, 1, 2, 3]))]
    for fwd_hooks in ([], hooks):
        per_token = token_losses(induction_model, tokens, fwd_hooks)
        assert per_token.shape == (tokens.shape[0], tokens.shape[1] - 1)
        assert per_token[:, 14:].mean().item() == pytest.approx(repeated_half_loss(induction_model, tokens, 13, fwd_hooks), rel=1e-5)
    with pytest.raises(ValueError, match=r"expected integer tokens of shape \(batch, pos\) with pos >= 2, got torch.float32 of shape \(2, 5\)"):
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
    results = patch_by_position(induction_model, clean, corrupted, names, lambda logits: logits[0, query, answer].item())
    # The changed token itself, then the position after it (where the previous-token head copied it), then the query.
    assert results.argmax(dim=1).tolist() == [3, 4, 11]
    same = patch_by_position(induction_model, clean, clean, names[:1], lambda logits: logits[0, query, answer].item())
    assert torch.allclose(same, same[0, 0].expand_as(same))
    with pytest.raises(ValueError, match="clean and corrupted tokens must have one shape"):
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
        (lambda p, L: torch.diagonal(p, offset=-(L - 1), dim1=-2, dim2=-1).mean(dim=(0, 2)), "average only over queries in the second copy"),
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
        (lambda heads: (lambda z, hook: None), "z came back unchanged"),
        (lambda heads: zero_ablation_hook(heads), "that is zero ablation"),
        (lambda heads: mean_ablation_hook([h for h in range(4) if h not in heads]), "you ablated the other heads"),
        (mean_hook_variant(lambda z, h: z.__setitem__((slice(None), slice(None), h), z[:, :, h].mean(dim=(0, 1), keepdim=True))),
         "take the mean over the batch only"),
        (mean_hook_variant(lambda z, h: z.__setitem__((slice(None), slice(None), h), z[:, :, h].mean(dim=2, keepdim=True))),
         "not the listed heads together"),
        (mean_hook_variant(lambda z, h: z.__setitem__((slice(None), h), z[:, h].mean(dim=0, keepdim=True))), "you indexed positions"),
        (lambda heads: mean_ablation_hook([0, 2]), "with heads [1], differs from the reference by 2.5; you ablated heads [0, 2]"),
        (mean_hook_variant(lambda z, h: z.__setitem__((slice(None), slice(None), 3), z[:, :, 3].mean(dim=0))),
         "with heads [0, 2], differs from the reference by 2.7; you ablated heads [3]"),  # hard-codes another head set
    ],
)
def test_the_mean_ablation_checker_names_each_mistake(wrong, hint):
    report = check_mean_ablation_hook(wrong)
    assert not report.passed and hint in str(report)


def test_the_mean_ablation_checker_passes_the_reference_and_rejects_bad_input():
    report = check_mean_ablation_hook(mean_ablation_hook)
    assert report.passed and "heads [0, 2], [1], [3] and [1, 2, 3]" in str(report)
    with pytest.raises(CheckerInputError, match=r"the hook: expected shape \(5, 6, 4, 3\) .* got \(6, 4, 3\)"):
        check_mean_ablation_hook(lambda heads: (lambda z, hook: z.mean(0)))
    with pytest.raises(CheckerInputError, match="should return a hook function, got int"):
        check_mean_ablation_hook(lambda heads: 3)


def test_the_courses_solutions_pass_both_checkers():
    report = STEP_CHECKS["step3"].run()  # checks the package's induction_score and mean_ablation_hook
    assert report.passed and [result.name for result in report.results] == ["induction_score", "mean_ablation_hook"], str(report)


def as_shown(taught) -> str:
    """The source of a function of mi_course as a page shows it: no input-checking decorator, no section markers."""
    lines = inspect.getsource(taught).split("\n")
    return "\n".join(line for line in lines if not line.startswith("@") and not SECTION_MARKER.match(line))


def test_the_step3_check_judges_exactly_the_code_the_pages_solutions_show():
    """`check step3` runs no snippet: it is honest only if the page's solutions are the package's functions, included."""
    step = STEP_CHECKS["step3"]
    assert step.taught_objects() == {"induction_score": induction.induction_score, "mean_ablation_hook": interventions.mean_ablation_hook}
    assert step.solution_paths() == [] and step.sources() == [Path(induction.__file__), Path(interventions.__file__)]
    solutions = {"induction_score": "step3/induction_score_solution.py", "mean_ablation_hook": "step3/mean_ablation_solution.py"}
    for name, taught in step.taught_objects().items():
        snippet = Snippet(solutions[name], ROOT)
        assert snippet.includes == [f"mi_course/{taught.__module__.split('.')[-1]}.py:{name.replace('_', '-')}"]
        assert as_shown(taught) in snippet.script and snippet.script.count(f"def {name}(") == 1
