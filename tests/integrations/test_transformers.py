"""The Hugging Face Trainer callback on real ``Trainer.train`` runs (CPU, no download)."""

import warnings

import pytest

torch = pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")

from curvestat.errors import CurvestatWarning, LiveFindingWarning  # noqa: E402
from curvestat.integrations.transformers import CurvestatCallback  # noqa: E402

from ._data import classification  # noqa: E402


class Tiny(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.net = torch.nn.Sequential(torch.nn.Linear(8, 16), torch.nn.ReLU(), torch.nn.Linear(16, 2))

    def forward(self, x, labels=None):
        logits = self.net(x)
        out = {"logits": logits}
        if labels is not None:
            out["loss"] = torch.nn.functional.cross_entropy(logits, labels)
        return out


class Rows(torch.utils.data.Dataset):
    def __init__(self, x, y):
        self.x, self.y = torch.tensor(x), torch.tensor(y)

    def __len__(self):
        return len(self.y)

    def __getitem__(self, i):
        return {"x": self.x[i], "labels": self.y[i]}


def _trainer(tmp_path, cb, x, y, n_train, *, epochs, nan_filter=False):
    args = transformers.TrainingArguments(
        output_dir=str(tmp_path), num_train_epochs=epochs, per_device_train_batch_size=32,
        per_device_eval_batch_size=64, learning_rate=0.01, logging_steps=1, eval_strategy="epoch",
        save_strategy="no", report_to=[], logging_nan_inf_filter=nan_filter, use_cpu=True, seed=0,
        disable_tqdm=True, dataloader_num_workers=0)
    return transformers.Trainer(model=Tiny(), args=args, train_dataset=Rows(x[:n_train], y[:n_train]),
                                eval_dataset=Rows(x[n_train:], y[n_train:]), callbacks=[cb])


def test_a_nan_batch_is_reported_and_stops_training(tmp_path):
    x, y = classification(1024, nan_rows=slice(0, 1024, 50))  # a NaN row in many batches
    cb = CurvestatCallback(action="stop", every=5)
    trainer = _trainer(tmp_path, cb, x, y, 800, epochs=4)
    with pytest.warns(LiveFindingWarning):
        trainer.train()
    nf = [f for f in cb.findings if f.kind == "non_finite"]
    assert nf and nf[0].onset_step <= 3
    assert trainer.state.global_step < 4 * 25


def test_the_nan_filter_default_is_flagged(tmp_path):
    x, y = classification(256)
    cb = CurvestatCallback()
    with pytest.warns(CurvestatWarning, match="logging_nan_inf_filter"):
        _trainer(tmp_path, cb, x, y, 200, epochs=1, nan_filter=True).train()


def test_a_healthy_run_has_no_finding(tmp_path):
    x, y = classification(1600, seed=1)
    cb = CurvestatCallback(every=50)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        _trainer(tmp_path, cb, x, y, 1280, epochs=8).train()
    report = cb.report()
    assert report.healthy, report.summary()
    assert {"loss", "eval_loss", "learning_rate"} <= set(report.run.names)
