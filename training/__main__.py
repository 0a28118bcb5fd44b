"""`python -m training <command>`: fit, export-steps, plot-descent, card-data, lessons.

Each command lives in its own module with a `main(argv)`; this file only dispatches, so
`python -m training fit --help` shows that command's own options.
"""

from __future__ import annotations

import importlib
import sys

COMMANDS = {
    "fit": ("training.fit", "train models, export them to ONNX, write cards into models/"),
    "export-steps": ("training.export_steps", "export step.onnx gradient-step graphs"),
    "plot-descent": ("training.plot_descent", "plot each descent, run in onnxruntime"),
    "card-data": ("training.card_data", "write each small model's data set into its card"),
    "lessons": ("training.lessons.publish_lesson", "export the calculus lessons (graph, slope)"),
}


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if not args or args[0] not in COMMANDS:
        lines = [f"  {name:<14}{help_}" for name, (_, help_) in COMMANDS.items()]
        print("usage: python -m training <command> [options]\n\ncommands:\n" + "\n".join(lines))
        return 0 if args and args[0] in ("-h", "--help") else 2
    module = importlib.import_module(COMMANDS[args[0]][0])
    return int(module.main(args[1:]) or 0)


if __name__ == "__main__":
    sys.exit(main())
