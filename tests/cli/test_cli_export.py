"""`rnnkit export`: LSTM variants that torch has no kernel for, exported to TorchScript and to
ONNX, give the outputs of the rnnkit model when run without rnnkit (torch.jit, onnxruntime)."""

import pytest
import torch

from rnnkit import engines
from rnnkit.cli.main import main
from rnnkit.training.evaluate import load_trained
from cli_helpers import write_config

CASES = [("adding", "vanilla"),  # peepholes
         ("stream", "CIFG")]  # coupled gates; outputs (T, B, V) with the batch second


@pytest.fixture(scope="module", params=CASES, ids=[f"{t}-{s}" for t, s in CASES])
def trained(request, tmp_path_factory):
    task, spec = request.param
    folder = tmp_path_factory.mktemp(f"export-{task}")
    # The loop engine: the fused one would first compile its C++ extension (a minute).
    with engines.use("loop"):
        assert main(["train", str(write_config(folder, task, spec, epochs=1))]) == 0
    return folder / "run"


def inputs_of(run, batch: int) -> torch.Tensor:
    """A batch of `batch` inputs of the exported length."""
    task = load_trained(run).task
    torch.manual_seed(0)
    return torch.cat([task.example_input().roll(k, 0) for k in range(batch)], dim=1)


def expected(run, x):
    with engines.use("loop"), torch.no_grad():
        return load_trained(run).model(x)[0]


@pytest.mark.filterwarnings("ignore:`torch.jit.load` is deprecated")  # still works in 2.13
def test_torchscript_export_runs_without_rnnkit(trained, tmp_path, capsys):
    path = tmp_path / "model.pt"
    assert main(["export", str(trained), "--format", "torchscript", "--output", str(path)]) == 0
    assert f"wrote {path} (torchscript)" in capsys.readouterr().out
    x = inputs_of(trained, 3)
    torch.testing.assert_close(torch.jit.load(str(path))(x), expected(trained, x))


def test_onnx_export_runs_in_onnxruntime(trained, tmp_path):
    ort = pytest.importorskip("onnxruntime", reason="onnxruntime is not installed (the 'export' "
                                                    "extra)")
    onnx = pytest.importorskip("onnx", reason="onnx is not installed (the 'export' extra)")
    assert main(["export", str(trained), "--format", "onnx"]) == 0
    path = trained / "model.onnx"
    onnx.checker.check_model(onnx.load(str(path)))
    x = inputs_of(trained, 3)  # a batch size other than the traced one
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    (got,) = session.run(None, {"input": x.numpy()})
    torch.testing.assert_close(torch.from_numpy(got), expected(trained, x), rtol=1e-4,
                               atol=1e-5)


def test_export_length_sets_the_steps_of_the_exported_model(trained, tmp_path, capsys):
    path = tmp_path / "m.pt"
    assert main(["export", str(trained / "last.pt"), "--format", "torchscript", "--length", "4",
                 "--output", str(path)]) == 0
    assert "input (4, 1" in capsys.readouterr().out
    with pytest.raises(SystemExit):
        main(["export", str(trained), "--format", "onnx", "--length", "0"])
