# The models the course ships, what they were trained on, and what was measured on them.
from mi_course import list_models, model_card

for name in list_models():
    if name == "gpt2-small":
        print(f"{name}: GPT-2 small from the Hugging Face hub (needs the network)")
        continue
    card = model_card(name)
    print(f"{name}: {card.description}")
    print(
        f"  retrain: {card.training['command']} "
        f"(seed {card.training['recipe']['seed']})"
    )
    for metric, value in card.metrics.items():
        print(f"  {metric}: {value}")
