"""The PyTorch Lightning callback on real ``Trainer.fit`` runs (CPU)."""

import warnings

import numpy as np
import pytest

torch = pytest.importorskip("torch")
L = pytest.importorskip("lightning.pytorch")

from curvestat.errors import LiveFindingWarning  # noqa: E402
from curvestat.integrations.lightning import CurvestatCallback  # noqa: E402

from ._data import classification  # noqa: E402


class Tiny(L.LightningModule):
    def __init__(self):
        super().__init__()
        self.net = torch.nn.Sequential(torch.nn.Linear(8, 16), torch.nn.ReLU(), torch.nn.Linear(16, 2))

    def training_step(self, batch, _):
        x, y = batch
        return torch.nn.functional.cross_entropy(self.net(x), y)

    def validation_step(self, batch, _):
        x, y = batch
        logits = self.net(x)
        self.log("val_loss", torch.nn.functional.cross_entropy(logits, y))
        self.log("val_acc", (logits.argmax(1) == y).float().mean())

    def configure_optimizers(self):
        return torch.optim.Adam(self.parameters(), lr=0.01)


def _loaders(x, y, n_train, *, shuffle=False):
    ds = lambda a, b: torch.utils.data.TensorDataset(torch.tensor(a), torch.tensor(b))  # noqa: E731
    gen = torch.Generator().manual_seed(0)
    return (torch.utils.data.DataLoader(ds(x[:n_train], y[:n_train]), batch_size=32, shuffle=shuffle, generator=gen),
            torch.utils.data.DataLoader(ds(x[n_train:], y[n_train:]), batch_size=64))


def _trainer(cb, epochs):
    return L.Trainer(max_epochs=epochs, callbacks=[cb], logger=False, enable_checkpointing=False,
                     enable_progress_bar=False, enable_model_summary=False, accelerator="cpu", devices=1)


def test_a_nan_batch_is_reported_at_its_step_and_stops_training():
    torch.manual_seed(0)
    x, y = classification(1024, nan_rows=slice(15 * 32, 15 * 32 + 3))  # batch 15 of every epoch
    cb = CurvestatCallback(action="stop", every=10)
    trainer = _trainer(cb, epochs=6)
    with pytest.warns(LiveFindingWarning), warnings.catch_warnings():
        warnings.filterwarnings("ignore", category=UserWarning)  # Lightning's advice on workers
        trainer.fit(Tiny(), *_loaders(x, y, 800))
    nf = [f for f in cb.findings if f.kind == "non_finite"]
    assert nf and nf[0].onset_step == 15
    assert trainer.current_epoch <= 1 and trainer.global_step < 2 * 25


def test_a_healthy_fit_has_no_finding_and_state_resumes():
    torch.manual_seed(1)
    x, y = classification(1600, seed=1)
    cb = CurvestatCallback(every=50)
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", category=UserWarning)
        _trainer(cb, epochs=8).fit(Tiny(), *_loaders(x, y, 1280, shuffle=True))
    report = cb.report()
    assert report.healthy, report.summary()
    assert {"train_loss", "val_loss", "val_acc", "lr"} <= set(report.run.names)
    assert len(report.run["train_loss"]) == 8 * 40
    again = CurvestatCallback()
    again.load_state_dict(cb.state_dict())
    np.testing.assert_array_equal(again.report().run["train_loss"].values, report.run["train_loss"].values)
