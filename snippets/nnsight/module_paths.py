# Finding modules by path in nnsight: gpt2-twin's blocks,
# a submodule, and the error for a path it lacks.
from mi_course import seed_everything
from mi_course.nnsight_tools import blocks, local_model, module

seed_everything(0)
model = local_model("gpt2-twin")
# nnsight names the root "model"
print(f"{len(blocks(model))} blocks at {blocks(model).path}")
print(module(model, "transformer.h.1.attn.c_proj"))
try:
    # where Llama keeps the same projection
    module(model, "model.layers.1.self_attn.o_proj")
except ValueError as error:
    print(error)
