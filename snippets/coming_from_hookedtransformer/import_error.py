# TransformerLens 4 removed HookedTransformer: the
# old imports now fail with a pointer to the new API.
try:
    from transformer_lens import HookedTransformer  # noqa: F401
except ImportError as error:
    print(f"{type(error).__name__}: {error}")

try:
    from transformer_lens import HookedTransformerConfig  # noqa: F401
except ImportError as error:
    print(f"{type(error).__name__}: {error}")

try:
    from transformer_lens import utils  # noqa: F401
except ImportError as error:
    print(f"{type(error).__name__}: {error}")

# Importing the old module path fails earlier, with no pointer at all.
try:
    from transformer_lens.HookedTransformer import HookedTransformer  # noqa: F401, F811
except ImportError as error:
    print(f"{type(error).__name__}: {error}")
