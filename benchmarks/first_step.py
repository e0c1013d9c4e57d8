"""Where the time from a fresh model's `fit` call to its first step goes, jkeras against
Keras 3: every program compiled on the way (model building and `compile` excluded), with its tracing, lowering and XLA compile
seconds (from JAX's compile log), and the rest (Python and transfers).

Each framework runs in a process of its own, so neither gains from the other's compiles
(XLA's GPU autotuning results are cached per process).

Usage: python benchmarks/first_step.py [--kind mlp|cnn]
"""
import argparse
import collections
import logging
import os
import re
import subprocess
import sys
import time

os.environ.setdefault("KERAS_BACKEND", "jax")
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import jax  # noqa: E402

import jkeras  # noqa: E402
from benchmarks.fit_vs_jax import _data, convnet_model, mlp_model  # noqa: E402

_PATTERNS = {
    "trace": re.compile(r"Finished tracing \+ transforming (\S+) .*in ([\d.e-]+) sec"),
    "lower": re.compile(r"Finished jaxpr to MLIR module conversion (\S+) in ([\d.e-]+) sec"),
    "compile": re.compile(r"Finished XLA compilation of (\S+) in ([\d.e-]+) sec"),
}


class CompileLog(logging.Handler):
    """Collects `{program: {stage: seconds}}` from JAX's compile log."""

    def __init__(self):
        super().__init__(logging.DEBUG)
        self.programs = collections.defaultdict(lambda: collections.Counter())
        self.order = []
        self.recording = False

    def emit(self, record):
        if not self.recording:
            return
        message = record.getMessage()
        for stage, pattern in _PATTERNS.items():
            m = pattern.search(message)
            if m:
                name = m.group(1)
                if name not in self.programs:
                    self.order.append(name)
                self.programs[name][stage] += float(m.group(2))


def first_step(lib, kind, batch_size, log):
    x, y = _data(kind, batch_size * 4, seed=7)
    model = mlp_model(lib) if kind == "mlp" else convnet_model(lib)
    model.compile(lib.optimizers.Adam(1e-3), "categorical_crossentropy")
    marks = {}

    def first(batch, logs):
        if "t" not in marks:
            float(logs["loss"])  # the step's result is on the host: it is done
            marks["t"] = time.perf_counter()
            model.stop_training = True
    callback = lib.callbacks.LambdaCallback(on_train_batch_end=first)
    log.recording = True
    start = time.perf_counter()
    model.fit(x, y, batch_size=batch_size, epochs=1, verbose=0, callbacks=[callback])
    return marks["t"] - start


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--kind", default="mlp", choices=("mlp", "cnn"))
    parser.add_argument("--lib", choices=("jkeras", "keras3"),
                        help="run this one here (else each in a process of its own)")
    args = parser.parse_args()
    if args.lib is None:
        print(f"case {args.kind}")
        for lib in ("jkeras", "keras3"):
            subprocess.run([sys.executable, os.path.abspath(__file__), "--kind", args.kind,
                            "--lib", lib], check=False)
        return
    batch_size = 128 if args.kind == "mlp" else 512
    libs = []
    if args.lib == "jkeras":
        libs.append(("jkeras", jkeras))
    else:
        try:
            import keras
            if keras.backend.backend() == "jax":
                libs.append(("keras3", keras))
        except Exception:  # noqa: BLE001 - Keras 3 is optional here
            print("keras3: not available")
    jax.config.update("jax_log_compiles", True)
    logger = logging.getLogger("jax")
    logger.setLevel(logging.DEBUG)
    logger.propagate = False
    print(f"device: {jax.devices()[0].device_kind}, jax {jax.__version__}")
    for name, lib in libs:
        log = CompileLog()
        logger.addHandler(log)
        total = first_step(lib, args.kind, batch_size, log)
        logger.removeHandler(log)
        stages = collections.Counter()
        print(f"\n{name}: {total:.3f} s to the first step, {len(log.order)} programs")
        print(f"  {'program':<44}{'trace':>8}{'lower':>8}{'compile':>9}")
        for program in log.order:
            times = log.programs[program]
            stages.update(times)
            print(f"  {program[:44]:<44}{times['trace']:>8.3f}{times['lower']:>8.3f}"
                  f"{times['compile']:>9.3f}")
        spent = sum(stages.values())
        print(f"  {'all programs':<44}{stages['trace']:>8.3f}{stages['lower']:>8.3f}"
              f"{stages['compile']:>9.3f}   rest {total - spent:.3f} s")


if __name__ == "__main__":
    sys.exit(main())
