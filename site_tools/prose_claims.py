"""Claims in a page's prose, checked against what the runs print, so that a rerun cannot leave the prose behind.

A sentence that reads a result (which head is strongest, that a control changes little, that a
score beats its baseline) carries a claim beside it, an HTML comment the site does not show::

    Mean ablation hurts less than zero ablation here.
    <!--claim: printed("step3/ablation.py", "mean-ablated") < printed("step3/ablation.py", "zero-ablated")-->

The claim is an expression over quoted numbers: ``printed(snippet, text, after=...)`` and
``card(model, field)`` read a number as the prose macros do (``site_tools/hooks/prose_numbers.py``);
numbers, ``+ - * /``, ``abs``, ``min``, ``max``, comparisons, ``and``, ``or`` and ``not`` combine them.
It must come out true. The page's grammar check evaluates every claim on the outputs the page
shows; each snippet's test evaluates the claims quoting that snippet on what its run printed, so a
retrained model that flips a claim fails the test even when the page's numbers are rewritten.

A notebook page's markdown cells carry claims the same way, quoting its code cells by id
(``printed("cell:ablation", ...)``); its run's test evaluates them on what that run printed.
"""

from __future__ import annotations

import ast
import operator
from collections.abc import Callable

from site_tools.pages import ProseClaim
from site_tools.quotes import card_field, literal_keywords, printed

COMPARISONS = {
    ast.Lt: operator.lt,
    ast.LtE: operator.le,
    ast.Gt: operator.gt,
    ast.GtE: operator.ge,
    ast.Eq: operator.eq,
    ast.NotEq: operator.ne,
}
ARITHMETIC = {ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul, ast.Div: operator.truediv}
FUNCTIONS: dict[str, Callable[..., float]] = {"abs": abs, "min": min, "max": max}


class ClaimError(ValueError):
    """A claim is malformed, quotes something that is not there, or does not hold; the message says which."""


def quoted_snippets(claim: ProseClaim) -> set[str]:
    """The snippets whose output ``claim`` quotes."""
    return {
        call.args[0].value
        for call in ast.walk(_tree(claim))
        if isinstance(call, ast.Call)
        and getattr(call.func, "id", None) == "printed"
        and call.args
        and isinstance(call.args[0], ast.Constant)
        and isinstance(call.args[0].value, str)
    }


def check(claim: ProseClaim, output_of: Callable[[str], str]) -> None:
    """Raise ``ClaimError`` unless ``claim`` holds; ``output_of(snippet)`` gives the output it quotes from."""
    quoted: dict[str, float] = {}
    try:
        holds = _evaluate(_tree(claim), output_of, quoted)
    except (ValueError, TypeError, ZeroDivisionError) as error:
        raise ClaimError(f"{claim.where}: claim {claim.expression!r}: {error}") from None
    if not isinstance(holds, bool):
        raise ClaimError(f"{claim.where}: claim {claim.expression!r} is a number, not a comparison")
    if not holds:
        values = ", ".join(f"{call} = {value:g}" for call, value in quoted.items())
        raise ClaimError(
            f"{claim.where}: the prose claims {claim.expression!r}, which no longer holds ({values}); "
            "correct the sentence it stands beside, then the claim"
        )


def failures(claims: list[ProseClaim], output_of: Callable[[str], str]) -> list[str]:
    """Why each of ``claims`` that does not hold fails, one message per claim (``output_of`` as for ``check``)."""
    messages = []
    for claim in claims:
        try:
            check(claim, output_of)
        except ClaimError as error:
            messages.append(str(error))
    return messages


def _tree(claim: ProseClaim) -> ast.expr:
    try:
        return ast.parse(claim.expression.replace("\n", " "), mode="eval").body
    except SyntaxError as error:
        raise ClaimError(f"{claim.where}: claim {claim.expression!r} is not an expression: {error.msg}") from None


def _evaluate(node: ast.expr, output_of: Callable[[str], str], quoted: dict[str, float]) -> float | bool:
    if isinstance(node, ast.Constant) and isinstance(node.value, (int, float)) and not isinstance(node.value, bool):
        return node.value
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.Not)):
        value = _evaluate(node.operand, output_of, quoted)
        return -value if isinstance(node.op, ast.USub) else not value
    if isinstance(node, ast.BinOp) and type(node.op) in ARITHMETIC:
        return ARITHMETIC[type(node.op)](
            _evaluate(node.left, output_of, quoted), _evaluate(node.right, output_of, quoted)
        )
    if isinstance(node, ast.BoolOp):
        values = [_evaluate(value, output_of, quoted) for value in node.values]
        return all(values) if isinstance(node.op, ast.And) else any(values)
    if isinstance(node, ast.Compare):
        values = [_evaluate(part, output_of, quoted) for part in (node.left, *node.comparators)]
        return all(COMPARISONS[type(op)](left, right) for op, left, right in zip(node.ops, values, values[1:]))
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
        name = node.func.id
        if name in FUNCTIONS:
            return FUNCTIONS[name](*(_evaluate(arg, output_of, quoted) for arg in node.args))
        if name in ("printed", "card"):
            try:
                args = [ast.literal_eval(arg) for arg in node.args]
                options = literal_keywords(node)
            except ValueError:
                raise ValueError(f"{ast.unparse(node)}: its arguments must be written out, as strings") from None
            if name == "printed":
                snippet, *selection = args
                value = float(printed(output_of(snippet), *selection, **options))
            else:
                value = float(card_field(*args, **options))
            quoted[ast.unparse(node)] = value
            return value
    raise ValueError(
        f"{ast.unparse(node)} is not allowed in a claim: quote numbers with printed(...) or card(...) "
        "and combine them with + - * /, abs, min, max, comparisons, and, or, not"
    )
