"""The Keras 3 callback on real ``model.fit`` runs (torch backend, CPU)."""

import warnings

import numpy as np
import pytest

keras = pytest.importorskip("keras")
pytest.importorskip("torch")

from curvestat.errors import LiveFindingWarning, TrainingPathologyError  # noqa: E402
from curvestat.integrations.keras import CurvestatCallback  # noqa: E402

from ._data import classification  # noqa: E402

BATCH = 32


def _model(seed=0):
    keras.utils.set_random_seed(seed)
    model = keras.Sequential([keras.Input((8,)), keras.layers.Dense(16, activation="relu"), keras.layers.Dense(2)])
    model.compile(optimizer=keras.optimizers.Adam(0.01),
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True), metrics=["accuracy"])
    return model


def test_a_nan_batch_is_reported_at_its_step_and_stops_training():
    nan_batch = 40  # epoch 1 (25 batches per epoch of 800 rows), batch 15
    x, y = classification(1024, nan_rows=slice(nan_batch % 25 * BATCH, nan_batch % 25 * BATCH + 4))
    cb = CurvestatCallback(action="stop", every=10)
    model = _model()
    with pytest.warns(LiveFindingWarning):
        hist = model.fit(x[:800], y[:800], validation_data=(x[800:], y[800:]), epochs=6, batch_size=BATCH,
                         shuffle=False, verbose=0, callbacks=[cb])
    nf = [f for f in cb.findings if f.kind == "non_finite"]
    assert nf and nf[0].onset_step == nan_batch % 25  # the first NaN batch of the first epoch
    assert len(hist.history["loss"]) == 1  # stopped in the epoch of the NaN


def test_raise_action():
    x, y = classification(512, nan_rows=slice(64, 66))
    with pytest.raises(TrainingPathologyError) as info, warnings.catch_warnings():
        warnings.simplefilter("ignore")
        _model().fit(x, y, epochs=2, batch_size=BATCH, shuffle=False, verbose=0,
                     callbacks=[CurvestatCallback(action="raise", every=5)])
    assert info.value.finding.kind == "non_finite"


def test_a_healthy_fit_has_no_finding_and_batch_losses_are_de_averaged():
    x, y = classification(1600, seed=1)
    cb = CurvestatCallback(every=50)
    _model(1).fit(x[:1280], y[:1280], validation_data=(x[1280:], y[1280:]), epochs=8, batch_size=BATCH,
                  verbose=0, callbacks=[cb])
    report = cb.report()
    assert report.healthy, report.summary()
    loss = report.run["loss"]
    assert len(loss) == 8 * 40
    # de-averaged batch losses are not the running mean: they vary more within an epoch
    within = np.diff(loss.values[:40])
    assert np.std(within) > 0.01
