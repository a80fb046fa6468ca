# The Step 1 checker tells you in one line what
# it expected when your model does not fit.
from torch import nn

from mi_course import (
    CheckerInputError,
    check_mnist_classifier,
    get_device,
    seed_everything,
)

seed_everything(0)
device = get_device()
mistakes = {
    "forgot to flatten": nn.Linear(28 * 28, 10),
    "five classes": nn.Sequential(nn.Flatten(), nn.Linear(28 * 28, 5)),
    "float64 weights": nn.Sequential(nn.Flatten(), nn.Linear(28 * 28, 10)).double(),
}
for mistake, model in mistakes.items():
    try:
        check_mnist_classifier(model.to(device))
    except CheckerInputError as error:
        print(f"{mistake}: {error}")
