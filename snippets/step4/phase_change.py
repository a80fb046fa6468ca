# A phase change: while induction-2l trained, its loss
# on the repeat fell just as its induction heads formed.
from mi_course import model_card, seed_everything
from mi_course.plotting import line, show

seed_everything(0)
# measured every 25 steps during training
history = model_card("induction-2l").training["history"]
steps, loss, score = (
    history["step"],
    history["repeated_half_loss_len13"],
    history["top_induction_score_len13"],
)

print("step   loss on the repeat (nats)   best induction score")
for step, step_loss, step_score in zip(steps, loss, score):
    if step % 100 == 0:
        print(f"{step:>4}   {step_loss:>25.3f}   {step_score:>20.3f}")
# One record is one batch, so single steps are noisy:
# find the steepest fall of a 100-step moving average.
window = 4  # records, 25 steps apart


def moving_average(values: list[float]) -> list[float]:
    return [
        sum(values[i : i + window]) / window for i in range(len(values) - window + 1)
    ]


smooth_loss, smooth_score = moving_average(loss), moving_average(score)
steepest = max(
    range(1, len(smooth_loss)), key=lambda i: smooth_loss[i - 1] - smooth_loss[i]
)
print(
    "steepest fall of the 100-step average loss: "
    f"from steps {steps[steepest - 1]}-{steps[steepest - 1 + window - 1]} "
    f"to {steps[steepest]}-{steps[steepest + window - 1]}, "
    "while the average induction score rose from "
    f"{smooth_score[steepest - 1]:.2f} to {smooth_score[steepest]:.2f}"
)
show(
    line(
        {"loss on the repeated half (nats)": loss, "best induction score": score},
        x=steps,
        title="The induction phase change in induction-2l",
        x_label="training step",
        y_label="value",
    )
)
