"""`python -m benchmarks.cells`: speed of the `GatedLSTM` variants (peephole, cifg, slstm)
against `nn.LSTM` / `nn.GRU` with the same sizes, and of the ways of running their time loop.

Measured, per torch thread count:
- forward (eval, inference mode) of a 2-layer, hidden-64 stack over context 48 at batch 1
  and batch 32: median over repeated calls;
- one training epoch: forward + backward + Adam step of the stack with a linear head over
  4096 random windows of context 48, batch 128: median over repeated epochs.

Implementations compared (same weights, same outputs):
- `nn.LSTM`: the fused ATen kernel, the reference;
- `step loop`: the first implementation, one `GatedLSTMCell` call per time step, each with
  its own input product;
- `precomputed`: the input product for all steps at once, then the plain Python loop over
  time (`GatedLSTM.scripted = False`);
- `precomputed + jit`: what `GatedLSTM` does by default, the same loop as TorchScript;
- `torch.compile` (only with `--compile`; its first call takes minutes, so off by default).

The sLSTM section times the forward (eval, inference mode) of `nn.LSTM`, `nn.GRU` and the
`slstm` `GatedLSTM` (TorchScript loop) at batch 1 and 1,000 over contexts 48 and 128
(`--compare-only` runs just that section and appends it to --output).

Repetitions are interleaved across implementations so that load from other processes on a
shared machine spreads over all of them. Writes benchmarks/results/cells.md.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

import torch
from torch import nn

from models.cells import GatedLSTM

RESULTS = Path(__file__).resolve().parent / "results"
CONTEXT = 48
HIDDEN = 64
LAYERS = 2
HORIZON = 12
VARIANTS = ("peephole", "cifg")
COMPARED_CONTEXTS = (48, 128)
COMPARED_BATCHES = (1, 1000)


def step_loop(model: GatedLSTM, x: torch.Tensor) -> torch.Tensor:
    """The first implementation's loop: one cell call (input product included) per step."""
    layer_input = x
    for layer in range(model.num_layers):
        if layer > 0:
            layer_input = model.dropout(layer_input)
        outputs = []
        for direction in range(model.directions):
            cell = model.cells[layer * model.directions + direction]
            h = c = x.new_zeros(x.shape[0], model.hidden_size)
            sequence = [h] * x.shape[1]
            steps = range(x.shape[1]) if direction == 0 else range(x.shape[1] - 1, -1, -1)
            for t in steps:
                h, c = cell(layer_input[:, t], (h, c))
                sequence[t] = h
            outputs.append(torch.stack(sequence, dim=1))
        layer_input = torch.cat(outputs, dim=-1)
    return layer_input


class Runner(nn.Module):
    """A recurrent stack run one way, plus the linear head training needs."""

    def __init__(self, stack: nn.Module, mode: str) -> None:
        super().__init__()
        self.stack = stack
        self.mode = mode
        self.head = nn.Linear(HIDDEN, HORIZON)

        if isinstance(stack, GatedLSTM):
            stack.scripted = mode == "precomputed + jit"

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        if self.mode == "step loop":
            return step_loop(self.stack, x)
        return self.stack(x)[0]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.encode(x)[:, -1])


def timed(call: Callable[[], object]) -> tuple[float, float]:
    """(wall, CPU) seconds of one call; CPU time of this process is what other processes on a
    shared machine disturb least (with 1 torch thread it is the uncontended wall time)."""
    wall, cpu = time.perf_counter(), time.process_time()
    call()
    return time.perf_counter() - wall, time.process_time() - cpu


def medians(samples: list[tuple[float, float]]) -> tuple[float, float]:
    return statistics.median(s[0] for s in samples), statistics.median(s[1] for s in samples)


def time_forward(
    runners: dict[str, Runner], batch: int, repeats: int, context: int = CONTEXT
) -> dict[str, tuple[float, float]]:
    x = torch.randn(batch, context, 1)
    samples: dict[str, list[tuple[float, float]]] = {name: [] for name in runners}
    with torch.inference_mode():
        for runner in runners.values():
            runner.eval()
            for _ in range(3):  # warm-up (and the jit's profiling runs)
                runner(x)
        for _ in range(repeats):
            for name, runner in runners.items():
                samples[name].append(timed(lambda runner=runner: runner(x)))
    return {name: medians(values) for name, values in samples.items()}


def time_epochs(
    runners: dict[str, Runner], windows: int, batch: int, epochs: int
) -> dict[str, tuple[float, float]]:
    x = torch.randn(windows, CONTEXT, 1)
    y = torch.randn(windows, HORIZON)
    optimisers = {name: torch.optim.Adam(runner.parameters(), lr=1e-3) for name, runner in runners.items()}

    def epoch(name: str) -> None:
        runner, optimiser = runners[name], optimisers[name]
        runner.train()
        for first in range(0, windows, batch):
            optimiser.zero_grad()
            loss = nn.functional.mse_loss(runner(x[first : first + batch]), y[first : first + batch])
            loss.backward()
            optimiser.step()

    for name in runners:  # warm-up: a few batches each
        runner = runners[name]
        for _ in range(3):
            runner(x[:batch]).sum().backward()
        runner.zero_grad()
    samples: dict[str, list[tuple[float, float]]] = {name: [] for name in runners}
    for _ in range(epochs):
        for name in runners:
            samples[name].append(timed(lambda name=name: epoch(name)))
    return {name: medians(values) for name, values in samples.items()}


def build(modes: list[str]) -> dict[str, Runner]:
    """Every (stack, mode) pair with shared weights per variant: identical work, identical outputs."""
    torch.manual_seed(0)
    runners = {"nn.LSTM": Runner(nn.LSTM(1, HIDDEN, LAYERS, batch_first=True), "native")}
    for variant in VARIANTS:
        stack = GatedLSTM(1, HIDDEN, LAYERS, variant=variant)
        for mode in modes:
            copy = GatedLSTM(1, HIDDEN, LAYERS, variant=variant)
            copy.load_state_dict(stack.state_dict())
            runners[f"{variant}: {mode}"] = Runner(copy, mode)
    return runners


def check_agreement(runners: dict[str, Runner]) -> float:
    """Largest output difference between modes of the same variant (they share weights)."""
    x = torch.randn(4, CONTEXT, 1)
    worst = 0.0
    with torch.inference_mode():
        for variant in VARIANTS:
            encoded = [r.encode(x) for name, r in runners.items() if name.startswith(f"{variant}:")]
            worst = max(worst, *(float((e - encoded[0]).abs().max()) for e in encoded))
    return worst


def time_compile(batch: int, repeats: int) -> dict[str, float]:
    """torch.compile of the peephole stack: first-call (compile) seconds and steady-state ms."""
    torch._dynamo.reset()
    torch.manual_seed(0)
    stack = GatedLSTM(1, HIDDEN, LAYERS, variant="peephole")
    compiled = torch.compile(stack)
    x = torch.randn(batch, CONTEXT, 1)
    figures: dict[str, float] = {}
    plain = GatedLSTM(1, HIDDEN, LAYERS, variant="peephole")
    plain.load_state_dict(stack.state_dict())

    def train_step(model: nn.Module) -> None:
        model(x)[0].sum().backward()

    def forward(model: nn.Module) -> None:
        with torch.inference_mode():
            model(x)

    figures: dict[str, tuple[float, float]] = {
        "forward, first call (s)": timed(lambda: forward(compiled)),
        "forward+backward, first call (s)": timed(lambda: train_step(compiled)),
    }
    for name, step in (("forward", forward), ("forward+backward", train_step)):
        for label, model in (("torch.compile", compiled), ("GatedLSTM (jit)", plain)):
            step(model)
            wall, cpu = medians([timed(lambda model=model, step=step: step(model)) for _ in range(repeats)])
            figures[f"{name}, {label}, steady state (ms)"] = (1e3 * wall, 1e3 * cpu)
    return figures


def compare_slstm(repeats: int) -> list[str]:
    """Forward of nn.LSTM, nn.GRU and the sLSTM stack per (batch, context): a markdown table."""
    torch.manual_seed(0)
    runners = {
        "nn.LSTM": Runner(nn.LSTM(1, HIDDEN, LAYERS, batch_first=True), "native"),
        "nn.GRU": Runner(nn.GRU(1, HIDDEN, LAYERS, batch_first=True), "native"),
        "slstm (jit)": Runner(GatedLSTM(1, HIDDEN, LAYERS, variant="slstm"), "precomputed + jit"),
    }
    cases = [(batch, context) for batch in COMPARED_BATCHES for context in COMPARED_CONTEXTS]
    figures = {
        # a batch of 1,000 takes tens of milliseconds: fewer calls keep the run short
        case: time_forward(runners, case[0], repeats if case[0] == 1 else max(3, repeats // 4), case[1])
        for case in cases
    }
    lines = [
        f"## sLSTM against nn.LSTM and nn.GRU (forward, threads {torch.get_num_threads()})",
        "",
        f"{LAYERS} layers, hidden {HIDDEN}, input size 1, unidirectional; eval, inference mode; "
        f"median of {repeats} calls at batch 1 and {max(3, repeats // 4)} at batch 1,000. "
        "Each figure is wall / CPU ms of this process, then the CPU time as a multiple of nn.LSTM's.",
        "",
        "| cell | " + " | ".join(f"b={batch}, context {context}" for batch, context in cases) + " |",
        "|---|" + "---:|" * len(cases),
    ]
    for name in runners:
        cells = []
        for case in cases:
            wall, cpu = figures[case][name]
            cells.append(f"{1e3 * wall:.2f} / {1e3 * cpu:.2f} ({cpu / figures[case]['nn.LSTM'][1]:.1f}x)")
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    return [*lines, ""]


def cpu_model() -> str:
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return platform.processor() or "unknown"


def write(path: Path, lines: list[str], append: bool) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a" if append else "w") as output:
        output.write("\n".join(lines) + "\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, nargs="+", default=[torch.get_num_threads()])
    parser.add_argument("--repeats", type=int, default=30, help="forward calls per figure")
    parser.add_argument("--epochs", type=int, default=3, help="timed epochs per figure")
    parser.add_argument("--windows", type=int, default=4096)
    parser.add_argument("--batch", type=int, default=128)
    parser.add_argument("--compile", action="store_true", help="also time torch.compile (minutes)")
    parser.add_argument(
        "--compile-only",
        action="store_true",
        help="time torch.compile only, appending its section to --output",
    )
    parser.add_argument(
        "--compare-only",
        action="store_true",
        help="time only the sLSTM / nn.LSTM / nn.GRU forward comparison, appending its section to --output",
    )
    parser.add_argument("--output", type=Path, default=RESULTS / "cells.md")
    args = parser.parse_args()

    modes = ["step loop", "precomputed", "precomputed + jit"]
    load_before = os.getloadavg()
    command = " ".join(["python -m benchmarks.cells", *sys.argv[1:]])
    lines = [
        "# GatedLSTM speed",
        "",
        f"`{command}`",
        "",
        f"{LAYERS} layers, hidden {HIDDEN}, context {CONTEXT}, input size 1, unidirectional.",
        "",
        f"- machine: {cpu_model()}, {os.cpu_count()} logical CPUs, {platform.system()} {platform.release()}",
        f"- python {platform.python_version()}, torch {torch.__version__}",
        f"- load average at start: {load_before[0]:.2f} (the machine is shared; figures are medians)",
        "",
    ]
    if args.compile_only or args.compare_only:
        lines = [  # appended below the last section: a blank line first keeps the markdown apart
            "",
            f"`{' '.join(['python -m benchmarks.cells', *sys.argv[1:]])}`, load average {load_before[0]:.2f}",
            "",
        ]
    for threads in [] if args.compile_only or args.compare_only else args.threads:
        torch.set_num_threads(threads)
        runners = build(modes)
        agreement = check_agreement(runners)
        forward = {batch: time_forward(runners, batch, args.repeats) for batch in (1, 32)}
        epochs = time_epochs(runners, args.windows, args.batch, args.epochs)
        lines += [
            f"## torch threads: {torch.get_num_threads()}",
            "",
            f"Forward: median of {args.repeats} calls (eval, inference mode). Epoch: median of "
            f"{args.epochs} epochs of {args.windows} windows, batch {args.batch}, forward + "
            f"backward + Adam. Largest output difference between modes: {agreement:.1e}.",
            "",
            "Each figure is wall / CPU time of this process (CPU time is the steadier one on a loaded machine).",
            "",
            "| implementation | forward b=1 (ms) | forward b=32 (ms) | epoch (s) | epoch CPU vs nn.LSTM |",
            "|---|---:|---:|---:|---:|",
        ]
        reference = epochs["nn.LSTM"][1]
        for name in runners:
            (f1, c1), (f32, c32), (e, ce) = forward[1][name], forward[32][name], epochs[name]
            lines.append(
                f"| {name} | {1e3 * f1:.2f} / {1e3 * c1:.2f} | {1e3 * f32:.2f} / {1e3 * c32:.2f} | "
                f"{e:.2f} / {ce:.2f} | {ce / reference:.2f}x |"
            )
        lines.append("")
        print("\n".join(lines[-len(runners) - 3 :]), flush=True)
        write(args.output, lines, append=False)  # a slow later section must not lose this one
    if not args.compile_only:
        torch.set_num_threads(args.threads[0])
        section = compare_slstm(args.repeats)
        lines += section
        print("\n".join(section), flush=True)
    if args.compile or args.compile_only:
        torch.set_num_threads(args.threads[0])
        figures = time_compile(32, 10)
        lines += [
            f"## torch.compile (peephole, threads {torch.get_num_threads()}, batch 32)",
            "",
            f"`{command}`" if args.compile_only else "Same stack and weights as above.",
            "",
            "| figure | wall | CPU |",
            "|---|---:|---:|",
            *(f"| {name} | {wall:.2f} | {cpu:.2f} |" for name, (wall, cpu) in figures.items()),
            "",
        ]
    load_after = os.getloadavg()
    lines.append(f"Load average at the end: {load_after[0]:.2f}.")
    write(args.output, lines, append=args.compile_only or args.compare_only)
    print(f"wrote {args.output}")


if __name__ == "__main__":
    main()
