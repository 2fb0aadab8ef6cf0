"""defer_dynamo_import: torch.optim steps without importing torch._dynamo, with the same numbers."""

import subprocess
import sys
import textwrap

import pytest
import torch

from easynn._dynamo_lazy import _lazy_use_grad, _LazyDisable

_SCRIPT = textwrap.dedent("""
    import sys, torch
    from easynn._dynamo_lazy import defer_dynamo_import
    assert "torch._dynamo" not in sys.modules
    for cls in (torch.optim.Adam, torch.optim.AdamW, torch.optim.SGD, torch.optim.RMSprop):
        assert defer_dynamo_import(cls), cls
        w = torch.nn.Parameter(torch.tensor([1.0, -2.0]))
        opt = cls([w], lr=0.1)
        opt.zero_grad(); (w ** 2).sum().backward(); opt.step()
        opt.load_state_dict(opt.state_dict())
    # SGD by hand: w - lr * 2w
    w = torch.nn.Parameter(torch.tensor([1.0, -2.0]))
    opt = torch.optim.SGD([w], lr=0.1)
    (w ** 2).sum().backward(); opt.step()
    assert torch.equal(w.detach(), torch.tensor([0.8, -1.6])), w
    print("dynamo imported:", "torch._dynamo" in sys.modules)
""")


@pytest.mark.slow  # a subprocess
def test_a_fresh_process_trains_without_importing_dynamo():
    result = subprocess.run([sys.executable, "-c", _SCRIPT], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    assert "dynamo imported: False" in result.stdout


def test_the_lazy_step_keeps_torch_grad_mode_handling():
    seen = []

    class Fake:
        defaults = {"differentiable": False}

    def raw(self, scale):
        seen.append(torch.is_grad_enabled())
        return scale * 2

    step = _lazy_use_grad(raw)
    with torch.enable_grad():
        assert step(Fake(), 3) == 6
        assert torch.is_grad_enabled()  # given back
    assert seen == [False]  # the update itself runs without autograd, as in torch


def test_lazy_disable_calls_through():
    calls = []
    lazy = _LazyDisable(lambda x: calls.append(x) or x + 1)
    assert lazy(1) == 2 and calls == [1]
