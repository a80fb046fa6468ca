"""Indirect object identification (Wang et al., 2022): its prompts, their corrupted twins and its metric.

In "When Mary and John went to the store, John gave a drink to", the next word is " Mary": the
indirect object (IO) is the name said once, the subject (S) the name said twice. A model that
prefers IO to S has to notice which name repeats. Every name, place and object here is a single
GPT-2 token, so each prompt of a template has the same length and its names sit at the same
positions. Introduced on the page "Build on a paper: the IOI circuit".
"""

from __future__ import annotations

import random
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING

import torch
from jaxtyping import Bool, Float
from torch import Tensor

from mi_course import _checks
from mi_course._checks import (
    Call,
    HookNames,
    IsModel,
    Maybe,
    Metric,
    Shape,
    Spec,
    guard,
    head_index,
    instance,
)

if TYPE_CHECKING:  # importing transformers takes seconds; `python -m mi_course check` imports this module for its checkers
    from transformer_lens import TransformerBridge
    from transformers import PreTrainedTokenizerFast

# 228 first names that GPT-2 reads as one token after a space (tests/test_ioi.py checks each).
NAMES = tuple(
    """
Mary John James Robert Michael William David Richard Joseph Thomas Charles Christopher Daniel Matthew Anthony
Mark Donald Steven Paul Andrew Joshua Kenneth Kevin Brian George Edward Ronald Timothy Jason Jeffrey Ryan Jacob
Gary Nicholas Eric Jonathan Stephen Larry Justin Scott Brandon Benjamin Samuel Frank Gregory Raymond Alexander
Patrick Jack Dennis Jerry Tyler Aaron Jose Henry Adam Douglas Nathan Peter Kyle Walter Harold Jeremy Ethan Carl
Keith Roger Gerald Christian Terry Sean Arthur Austin Noah Lawrence Jesse Joe Bryan Billy Jordan Albert Dylan
Bruce Willie Gabriel Alan Juan Logan Wayne Ralph Roy Eugene Randy Vincent Russell Louis Philip Bobby Johnny
Bradley Patricia Jennifer Linda Elizabeth Barbara Susan Jessica Sarah Karen Nancy Lisa Betty Margaret Sandra
Ashley Kimberly Emily Donna Michelle Dorothy Carol Amanda Melissa Deborah Stephanie Rebecca Sharon Laura
Cynthia Kathleen Amy Shirley Angela Helen Anna Brenda Pamela Nicole Emma Samantha Katherine Christine Rachel
Catherine Carolyn Janet Ruth Maria Heather Diane Virginia Julie Joyce Victoria Olivia Kelly Christina Lauren
Joan Judith Megan Cheryl Andrea Hannah Martha Frances Gloria Ann Teresa Kathryn Sara Jean Alice Madison Julia
Judy Grace Denise Amber Marilyn Beverly Danielle Theresa Sophia Marie Diana Brittany Natalie Charlotte Alexis
Tom Bob Jim Mike Dan Ben Sam Max Alex Tim Ken Ron Fred Bill Jane Kate Lucy Eva Leo Luke Ian Rob Ted Tony Nick
Matt Chris Steve Dave Jon Pete Josh Zach Jay Ray Jeff Greg Phil
""".split()
)
PLACES = tuple(
    "store park school garden house hospital station market office restaurant church beach river library "
    "kitchen shop castle forest field city village farm lake".split()
)
OBJECTS = tuple(
    "drink book ring bone kiss letter basketball computer bag gift apple flower pen key snack necklace sword "
    "hat coin knife cup".split()
)
# ABBA templates: {IO} once, then {S} twice; the BABA order swaps the first two names.
TEMPLATES = (
    "When {IO} and {S} went to the {PLACE}, {S} gave a {OBJECT} to",
    "Then, {IO} and {S} went to the {PLACE}. {S} gave a {OBJECT} to",
    "After {IO} and {S} went to the {PLACE}, {S} gave a {OBJECT} to",
    "When {IO} and {S} got a {OBJECT} at the {PLACE}, {S} decided to give it to",
    "While {IO} and {S} were working at the {PLACE}, {S} gave a {OBJECT} to",
    "Then, {IO} and {S} had a long argument, and afterwards {S} said to",
    "When {IO} and {S} arrived at the {PLACE}, {S} handed a {OBJECT} to",
    "Friends {IO} and {S} found a {OBJECT} at the {PLACE}. {S} gave it to",
    "Afterwards, {IO} and {S} went to the {PLACE}. {S} passed the {OBJECT} to",
    "The {PLACE} was quiet when {IO} and {S} arrived, so {S} gave a {OBJECT} to",
    "Then {IO} and {S} had lunch at the {PLACE}, and {S} sent a {OBJECT} to",
    "When {IO} and {S} left the {PLACE}, {S} threw a {OBJECT} to",
    "While {IO} and {S} were at the {PLACE}, {S} brought a {OBJECT} to",
    "Later, {IO} and {S} met at the {PLACE}, where {S} showed the {OBJECT} to",
    "Once {IO} and {S} reached the {PLACE}, {S} offered a {OBJECT} to",
    "Since {IO} and {S} were tired of the {PLACE}, {S} lent a {OBJECT} to",
)
# gpt2-twin's splits. It trains on IOI prompts of the training templates and names only. The
# held-out names appear in its training data only in sentences naming one person; the unseen
# names appear nowhere in it.
HELD_OUT_TEMPLATES, HELD_OUT_NAMES, UNSEEN_NAMES = (
    TEMPLATES[::4],
    NAMES[::5],
    NAMES[2::10],
)
TRAINING_TEMPLATES = tuple(t for t in TEMPLATES if t not in HELD_OUT_TEMPLATES)
TRAINING_NAMES = tuple(n for n in NAMES if n not in HELD_OUT_NAMES + UNSEEN_NAMES)
ORDERS = ("ABBA", "BABA", "mixed", "as written")
# Where each role stands is read per prompt; these are the roles, and the groups the page patches together.
ROLES = ("S1", "IO", "S2", "END", "other")
ROLE_GROUPS = (("S1",), ("IO",), ("S2",), ("IO", "S2"), ("END",), ("other",))


class NotOneTokenError(ValueError):
    """A name, place or object is more than one token; the message names it and its tokens."""


@dataclass(frozen=True)
class IOIPrompts:
    """A batch of IOI prompts, tokenised as a bridge's ``to_tokens`` would: ``<|endoftext|>`` first.

    ``tokens`` is ``(batch, seq)``, right-padded with ``<|endoftext|>`` when templates differ in
    length; ``end`` is each prompt's last position, where the next token is read. ``io`` and ``s``
    are the two names' token ids; ``io_position``, ``s1_position`` and ``s2_position`` are where
    they stand.
    """

    texts: tuple[str, ...]
    tokens: Tensor
    end: Tensor
    io: Tensor
    s: Tensor
    io_position: Tensor
    s1_position: Tensor
    s2_position: Tensor

    def __len__(self) -> int:
        return len(self.texts)

    def to(self, device: torch.device | str) -> IOIPrompts:
        return IOIPrompts(
            self.texts, *(getattr(self, name).to(device) for name in _TENSOR_FIELDS)
        )


_TENSOR_FIELDS = (
    "tokens",
    "end",
    "io",
    "s",
    "io_position",
    "s1_position",
    "s2_position",
)


def ioi_prompts(
    n: int,
    *,
    templates: Sequence[str] = TEMPLATES,
    names: Sequence[str] = NAMES,
    order: str = "mixed",
    seed: int = 0,
) -> IOIPrompts:
    """``n`` prompts, each a template filled with two distinct names, a place and an object, drawn with ``seed``.

    ``order`` is ``"ABBA"`` (IO first), ``"BABA"`` (S first) or ``"mixed"`` (half and half, by draw):
    a template is written in ABBA order, and BABA swaps its first two names. ``"as written"`` fills
    the slots where the template puts them, so ``"{S} ... {S} ... {IO}"`` makes IO the last name.
    """
    _checks.integer(n, "ioi_prompts", "n", minimum=1)
    _checks.integer(seed, "ioi_prompts", "seed", minimum=0)
    if order not in ORDERS:
        raise ValueError(
            f"ioi_prompts expected order to be one of {', '.join(ORDERS)}, got {order!r}"
        )
    templates = _valid_templates(
        templates, "ioi_prompts", as_written=order == "as written"
    )
    names = _single_tokens(names, "ioi_prompts", minimum=2)
    draw = random.Random(seed)
    fillings = []
    for _ in range(n):
        template, (io, s) = draw.choice(templates), draw.sample(names, 2)
        baba = order == "BABA" or (order == "mixed" and draw.random() < 0.5)
        fillings.append(
            (template, io, s, draw.choice(PLACES), draw.choice(OBJECTS), baba)
        )
    return _prompts(fillings)


def corrupted(
    prompts: IOIPrompts, *, names: Sequence[str] = NAMES, seed: int = 1
) -> IOIPrompts:
    """The "ABC" twin of each prompt: the same words, its three name mentions replaced by three other names.

    No name repeats, so the corrupted prompt carries no evidence of which name is the indirect
    object. Positions are unchanged, so clean and corrupted runs can be patched position by
    position; ``io`` and ``s`` stay the clean prompt's, the names the metric compares.
    """
    _checks.instance(prompts, IOIPrompts, "corrupted", "prompts")
    _checks.integer(seed, "corrupted", "seed", minimum=0)
    name_ids = [
        _token_ids(f" {name}")[0]
        for name in _single_tokens(names, "corrupted", minimum=5)
    ]
    draw = random.Random(seed)
    tokens = prompts.tokens.clone()
    for row, (io, s) in enumerate(
        zip(prompts.io.tolist(), prompts.s.tolist(), strict=True)
    ):
        fresh = draw.sample([token for token in name_ids if token not in (io, s)], 3)
        for position, token in zip(
            (prompts.io_position, prompts.s1_position, prompts.s2_position),
            fresh,
            strict=True,
        ):
            tokens[row, position[row]] = token
    texts = tuple(
        _tokenizer().decode(row[1 : end + 1])
        for row, end in zip(tokens.tolist(), prompts.end.tolist(), strict=True)
    )
    return IOIPrompts(
        texts,
        tokens,
        prompts.end,
        prompts.io,
        prompts.s,
        prompts.io_position,
        prompts.s1_position,
        prompts.s2_position,
    )


def _prompts_of(prompts: object, name: str, call: Call) -> IOIPrompts:
    """The IOIPrompts whose logits these are, on the logits' device."""
    logits = call.arguments["logits"]
    if (
        logits.shape[:2]
        != instance(prompts, IOIPrompts, call.function, name).tokens.shape
    ):
        raise ValueError(
            f"{call.function} expected logits of shape (batch, seq, vocab) with (batch, seq) = "
            f"{tuple(prompts.tokens.shape)}, got {tuple(logits.shape)}"
        )
    return prompts.to(logits.device)


@guard(logits=Shape("batch seq vocab"), prompts=_prompts_of)
# --8<-- [start:logit-diff]
def logit_diff(
    logits: Float[Tensor, "batch seq vocab"], prompts: IOIPrompts
) -> Float[Tensor, "batch"]:
    """Per prompt, the IO logit minus the S logit at its own last position:
    ``(batch,)``.

    Prompts of different templates differ in length and are right-padded, so the last
    position of the tensor, ``-1``, is padding for every prompt shorter than the
    longest.
    """
    rows = torch.arange(len(prompts), device=logits.device)
    last = logits[
        rows, prompts.end
    ]  # (batch, vocab): each prompt's logits where it predicts the next token
    return last[rows, prompts.io] - last[rows, prompts.s]


# --8<-- [end:logit-diff]


def _with_a_gap(corrupted_logits: Tensor, name: str, call: Call) -> Tensor:
    """Logits whose mean logit difference is not the clean run's: there is a gap to share."""
    clean, corrupted = (
        logit_diff(logits, call.arguments["prompts"]).mean().item()
        for logits in (call.arguments["clean_logits"], corrupted_logits)
    )
    if clean == corrupted:
        raise ValueError(
            f"{call.function}: the clean and corrupted runs have one mean logit difference ({clean:.4g}), "
            "so there is no gap to measure a share of"
        )
    return corrupted_logits


@guard(corrupted_logits=_with_a_gap)
# --8<-- [start:ioi-metric]
def ioi_metric(
    prompts: IOIPrompts,
    clean_logits: Float[Tensor, "batch seq vocab"],
    corrupted_logits: Float[Tensor, "batch seq vocab"],
) -> Callable[[Float[Tensor, "batch seq vocab"]], Tensor]:
    """The mean logit difference IO - S, rescaled so that the corrupted run scores 0 and
    the clean run 1.

    The function it returns gives a 0-dim tensor, not a float, so that attribution
    patching can differentiate it.
    """
    clean = logit_diff(clean_logits, prompts).mean()
    corrupted = logit_diff(corrupted_logits, prompts).mean()

    def metric(logits: Float[Tensor, "batch seq vocab"]) -> Tensor:
        return (logit_diff(logits, prompts).mean() - corrupted) / (clean - corrupted)

    return metric


# --8<-- [end:ioi-metric]


def patching_prompts(
    n: int = 100, *, order: str = "mixed", seed: int = 0
) -> tuple[IOIPrompts, IOIPrompts]:
    """The IOI page's patching prompts: ``n`` of the first held-out template, filled with held-out names, and their ABC
    corruptions, whose three names are other held-out names.

    Every prompt has the same length. With ``order="mixed"`` a position holds IO in ABBA prompts and
    S1 in BABA ones, so patch by role (``patch_roles``); with one order, a position is one role.
    Between draws of 20 prompts a head's patching effect moved by tenths; the page uses 100 and
    reports each effect over 5 draws.
    """
    _checks.integer(n, "patching_prompts", "n", minimum=1)
    _checks.integer(seed, "patching_prompts", "seed", minimum=0)
    if order not in ORDERS[:3]:
        raise ValueError(
            f"patching_prompts expected order to be one of {', '.join(ORDERS[:3])}, got {order!r}"
        )
    prompts = ioi_prompts(
        n,
        templates=HELD_OUT_TEMPLATES[:1],
        names=HELD_OUT_NAMES,
        order=order,
        seed=seed,
    )
    # Corrupted with held-out names too: a name the twin never saw keeps its random embedding, itself a perturbation.
    return prompts, corrupted(prompts, names=HELD_OUT_NAMES)


def patching_case(
    model, n: int = 100, *, order: str = "mixed", seed: int = 0
) -> tuple[IOIPrompts, IOIPrompts, Callable[[Tensor], Tensor]]:
    """``patching_prompts`` on ``model``'s device, and ``ioi_metric`` between them: 0 for the corrupted run, 1 for the clean one."""
    _checks.model(model, "patching_case")
    prompts, abc = (
        run.to(model.cfg.device) for run in patching_prompts(n, order=order, seed=seed)
    )
    with torch.inference_mode():
        return (
            prompts,
            abc,
            ioi_metric(prompts, model(prompts.tokens), model(abc.tokens)),
        )


def position_names(prompts: IOIPrompts) -> dict[int, str]:
    """Where the names and the last token stand, ``{position: "S1" | "IO" | "S2" | "END"}`` in order, if every prompt agrees.

    A batch that mixes ABBA and BABA prompts has IO where others have S1: one position is then two
    roles, and this refuses it. Patch such a batch by role instead (``patch_roles``).
    """
    _checks.instance(prompts, IOIPrompts, "position_names", "prompts")
    named = {
        "IO": prompts.io_position,
        "S1": prompts.s1_position,
        "S2": prompts.s2_position,
        "END": prompts.end,
    }
    layouts = [
        dict(sorted((int(positions[row]), name) for name, positions in named.items()))
        for row in range(len(prompts))
    ]
    if (
        other := next(
            (row for row, layout in enumerate(layouts) if layout != layouts[0]), None
        )
    ) is not None:
        raise ValueError(
            f"position_names expected prompts whose names stand at the same positions in every row, got row 0 "
            f"{_layout(layouts[0])} and row {other} {_layout(layouts[other])}; label such a batch by each "
            "prompt's own roles (patch_roles), or build it with one order and one template"
        )
    return layouts[0]


def _layout(layout: dict[int, str]) -> str:
    return " ".join(f"{position}:{name}" for position, name in layout.items())


def role_mask(prompts: IOIPrompts, roles: Sequence[str]) -> Bool[Tensor, "batch seq"]:
    """True where each prompt holds one of ``roles`` (``ROLES``), at that prompt's own positions.

    ``"other"`` is every position up to the end that holds none of the names and is not the end.
    """
    _checks.instance(prompts, IOIPrompts, "role_mask", "prompts")
    _checks.instance(roles, (list, tuple), "role_mask", "roles")
    if not roles or any(role not in ROLES for role in roles):
        raise ValueError(
            f"role_mask expected roles from {', '.join(ROLES)}, got {list(roles)!r}"
        )
    rows = torch.arange(len(prompts))
    named = {
        "IO": prompts.io_position,
        "S1": prompts.s1_position,
        "S2": prompts.s2_position,
        "END": prompts.end,
    }
    mask = torch.zeros(prompts.tokens.shape, dtype=torch.bool)
    for role in roles:
        if role != "other":
            mask[rows, named[role]] = True
    if "other" in roles:
        any_named = torch.zeros_like(mask)
        for positions in named.values():
            any_named[rows, positions] = True
        before_end = torch.arange(mask.shape[1]) <= prompts.end[:, None]
        mask |= before_end & ~any_named
    return mask


def _on_model_device(prompts: object, name: str, call: Call) -> IOIPrompts:
    """IOIPrompts, moved to the model's device."""
    instance(prompts, IOIPrompts, call.function, name)
    return prompts.to(call.arguments["model"].cfg.device)


def _corrupting(corrupted: object, name: str, call: Call) -> IOIPrompts:
    """The corruption of ``prompts``: IOIPrompts whose tokens have the clean prompts' shape."""
    corrupted, bridge = _on_model_device(corrupted, name, call), call.arguments["model"]
    clean = call.arguments["prompts"]
    _checks.tokens(clean.tokens, call.function, bridge, "clean_tokens")
    _checks.tokens(corrupted.tokens, call.function, bridge, "corrupted_tokens")
    if clean.tokens.shape != corrupted.tokens.shape:
        raise ValueError(
            f"{call.function} expected clean and corrupted tokens of one shape, got {tuple(clean.tokens.shape)} "
            f"and {tuple(corrupted.tokens.shape)}"
        )
    return corrupted


def _role_groups(groups: object, name: str, call: Call) -> Sequence[Sequence[str]]:
    """A list of groups of roles that ``role_mask`` takes."""
    for roles in instance(groups, (list, tuple), call.function, name):
        role_mask(call.arguments["prompts"], roles)
    return groups


_ROLE_PATCHING: dict[str, Spec] = dict(
    model=IsModel(),
    prompts=_on_model_device,
    corrupted_prompts=_corrupting,
    metric=Metric(),
    hook_names=HookNames(),
    groups=_role_groups,
    head=Maybe(head_index()),
)


@guard(**_ROLE_PATCHING)
@torch.inference_mode()
# --8<-- [start:patch-roles]
def patch_roles(
    model: TransformerBridge,
    prompts: IOIPrompts,
    corrupted_prompts: IOIPrompts,
    hook_names: list[str],
    metric: Callable[[Float[Tensor, "batch seq vocab"]], float],
    groups: Sequence[Sequence[str]] = ROLE_GROUPS,
    head: int | None = None,
) -> Float[Tensor, "hook group"]:
    """Activation patching by role: ``(len(hook_names), len(groups))``, entry ``[i, j]``
    the metric of the corrupted run with hook ``hook_names[i]`` patched from the clean
    run at the roles ``groups[j]``, each prompt at its own positions.

    In a batch that mixes ABBA and BABA, IO stands where S1 stands in other prompts, so
    a table by position would average two roles; a table by role does not. With
    ``head``, only that head's slice.
    """
    _, clean_cache = model.run_with_cache(prompts.tokens)
    results = torch.zeros(len(hook_names), len(groups))
    for row, name in enumerate(hook_names):
        for column, roles in enumerate(groups):
            mask = role_mask(prompts, roles).to(
                prompts.tokens.device
            )  # (batch, seq): this group's positions, prompt by prompt
            where = (mask,) if head is None else (mask, head)

            def patch(
                activation: Tensor, hook, where: tuple = where, name: str = name
            ) -> Tensor:
                activation = activation.clone()
                activation[where] = clean_cache[name][where]
                return activation

            results[row, column] = metric(
                model.run_with_hooks(
                    corrupted_prompts.tokens, fwd_hooks=[(name, patch)]
                )
            )
    return results


# --8<-- [end:patch-roles]


def name_token(name: str) -> int:
    """The id of ``" " + name``, which must be one GPT-2 token."""
    _single_tokens([name], "name_token", minimum=1)
    return _token_ids(f" {name}")[0]


def _prompts(fillings: list[tuple[str, str, str, str, str, bool]]) -> IOIPrompts:
    texts = []
    for template, io, s, place, obj, baba in fillings:
        if baba:
            template = (
                template.replace("{IO}", "\0", 1)
                .replace("{S}", "{IO}", 1)
                .replace("\0", "{S}", 1)
            )
        texts.append(template.format(IO=io, S=s, PLACE=place, OBJECT=obj))
    ios = [filling[1] for filling in fillings]
    subjects = [filling[2] for filling in fillings]
    rows = [[_bos(), *_token_ids(text)] for text in texts]
    io = [_token_ids(f" {name}")[0] for name in ios]
    s = [_token_ids(f" {name}")[0] for name in subjects]
    return _batch(tuple(texts), rows, io, s)


def _batch(
    texts: tuple[str, ...], rows: list[list[int]], io: list[int], s: list[int]
) -> IOIPrompts:
    io_position = [row.index(name) for row, name in zip(rows, io, strict=True)]
    s1_position = [row.index(name) for row, name in zip(rows, s, strict=True)]
    s2_position = [
        len(row) - 1 - row[::-1].index(name) for row, name in zip(rows, s, strict=True)
    ]
    as_tensor = lambda values: torch.tensor(values, dtype=torch.long)  # noqa: E731
    return IOIPrompts(
        texts,
        _padded(rows),
        as_tensor([len(row) - 1 for row in rows]),
        as_tensor(io),
        as_tensor(s),
        as_tensor(io_position),
        as_tensor(s1_position),
        as_tensor(s2_position),
    )


def _padded(rows: list[list[int]]) -> Tensor:
    width = max(map(len, rows))
    return torch.tensor(
        [row + [_bos()] * (width - len(row)) for row in rows], dtype=torch.long
    )


_SHAPES = (
    "order 'ABBA', 'BABA' or 'mixed' read a template written IO-S-S (ABBA) and swap its first two names for BABA; "
    "for any other order of the three slots, such as S-S-IO, where the last name is IO, pass order='as written'"
)


def _valid_templates(
    templates: Sequence[str], function: str, *, as_written: bool = False
) -> tuple[str, ...]:
    _checks.instance(templates, (list, tuple), function, "templates")
    if not templates:
        raise ValueError(f"{function} expected at least one template, got none")
    for template in templates:
        _checks.instance(template, str, function, "each template")
        slots = "-".join(re.findall(r"\{(IO|S)\}", template)) or "none"
        if (template.count("{IO}"), template.count("{S}")) != (1, 2):
            raise ValueError(
                f"{function} expected each template to hold the slot {{IO}} once and {{S}} twice, "
                f"got the name slots {slots} in {template!r}; {_SHAPES}"
            )
        if re.search(r"(^|[^ ])\{(IO|S)\}", template):
            raise ValueError(
                f"{function} expected each name slot to follow a space (a name is one token only "
                f"after one, so S1 and S2 would be different tokens), got {template!r}"
            )
        if not as_written and slots != "IO-S-S":
            raise ValueError(
                f"{function} expected a template written IO-S-S, got the name slots {slots} in {template!r}; {_SHAPES}"
            )
    return tuple(templates)


def _single_tokens(
    names: Sequence[str], function: str, *, minimum: int
) -> tuple[str, ...]:
    _checks.instance(names, (list, tuple), function, "names")
    if len(set(names)) < minimum:
        raise ValueError(
            f"{function} expected at least {minimum} distinct names, got {len(set(names))}"
        )
    for name in names:
        _checks.instance(name, str, function, "each name")
        ids = _token_ids(f" {name}")
        if len(ids) != 1:
            pieces = [_decode(token) for token in ids]
            raise NotOneTokenError(
                f"{function}: the name {name!r} is {len(ids)} GPT-2 tokens after a space, {pieces}; use a name that is one token"
            )
    return tuple(names)


def _token_ids(text: str) -> list[int]:
    return _tokenizer()(text, add_special_tokens=False).input_ids


def _decode(token: int) -> str:
    return _tokenizer().decode([token]).strip()


def _bos() -> int:
    return _tokenizer().bos_token_id


@cache
def _tokenizer() -> PreTrainedTokenizerFast:
    from mi_course.tokenization import gpt2_tokenizer

    return gpt2_tokenizer()
