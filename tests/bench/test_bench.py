"""Tests of curvestat.bench: corpora, scoring, baselines, runner, CLI (no torch needed)."""

from __future__ import annotations

import argparse
import json
import math

import numpy as np
import pytest

from curvestat import Finding, Pathology, Run, Severity, Skipped
from curvestat.bench import (
    Corpus,
    Detection,
    KerasCallbacks,
    LabelledRun,
    LightningCallbacks,
    NaiveThresholds,
    SageMakerRules,
    Truth,
    load_corpus,
    run_benchmark,
    score,
    synthetic,
    synthetic_run,
)
from curvestat.bench import _cli
from curvestat.bench.synthetic import HEALTHY_KINDS, PATHOLOGY_KINDS
from curvestat.errors import InputError, ParameterError, UnreadableSourceError

P = Pathology


# --- toy detectors ------------------------------------------------------------------------------


class Oracle:
    """Reads the truth from a lookup: a perfect detector (onset and period exact)."""

    name = "oracle"

    def __init__(self, truths):
        self.truths = truths

    def detect(self, run, config=None):
        t = self.truths[run.run_id]
        return [Finding(p, "oracle", "loss", onset_step=t.onset_step, period_steps=t.period_steps, p_value=1e-6)
                for p in t.labels]


class Never:
    name = "never"

    def detect(self, run, config=None):
        return []


class NanFlag:
    """Flags any non-finite train loss: the simplest real detector."""

    name = "nanflag"

    def detect(self, run, config=None):
        tl = run.train_loss
        bad = np.flatnonzero(~np.isfinite(tl.values))
        if not bad.size:
            return []
        return [Finding(P.EXPLOSION, "non_finite", tl.name, onset_step=int(tl.steps[bad[0]]))]


class Boom:
    name = "boom"

    def detect(self, run, config=None):
        raise RuntimeError("bug")


@pytest.fixture(scope="module")
def corpus():
    return synthetic(150, seed=3)


# --- synthetic generator ---------------------------------------------------------------------------


def test_synthetic_is_seeded_and_index_stable(corpus):
    again = synthetic(20, seed=3)
    for a, b in zip(corpus[:20], again):
        assert a.truth == b.truth
        for sa, sb in zip(a.run, b.run):
            np.testing.assert_array_equal(sa.steps, sb.steps)
            np.testing.assert_array_equal(sa.values, sb.values)
    other = synthetic(5, seed=4)
    # another seed draws other runs: different lengths or different values
    assert any(len(a.run.train_loss) != len(b.run.train_loss)
               or not np.array_equal(a.run.train_loss.values, b.run.train_loss.values)
               for a, b in zip(corpus[:5], other))
    assert synthetic_run(7, seed=3).truth == corpus[7].truth


def test_synthetic_covers_all_pathologies_and_healthy(corpus):
    counts = corpus.counts()
    assert counts["healthy"] > 30
    for p in P:
        assert counts[p.value] > 5, p
    lens = [len(it.run.train_loss) for it in corpus]
    assert min(lens) >= 20 and max(lens) <= 100_000


@pytest.mark.parametrize("p", list(P))
def test_each_pathology_has_ground_truth(p):
    c = synthetic(40, seed=11, pathologies=[p], healthy_fraction=0.0, combo_fraction=0.0)
    kinds = set()
    for it in c:
        t = it.truth
        if t.kind == "memorisation":  # the overfitting generator's growing gap, labelled healthy
            assert p is P.OVERFITTING and not t.labels
            continue
        assert t.labels == frozenset({p})
        kinds.add(t.kind)
        assert it.run.lr is not None and it.run.train_loss is not None
        if p is P.PERIODIC:
            assert t.period_steps == it.run.steps_per_epoch
            assert len(it.run.train_loss) * (it.run.train_loss.steps[1] - it.run.train_loss.steps[0]) >= 3 * t.period_steps
        if p is P.EXPLOSION:
            assert t.onset_step is not None and t.onset_step in set(it.run.train_loss.steps.tolist())
            if t.kind == "non_finite":
                assert not np.all(np.isfinite(it.run.train_loss.values))
            elif t.kind == "divergence":
                y = it.run.train_loss.values
                i = int(np.searchsorted(it.run.train_loss.steps, t.onset_step))
                j = i + len(y) // 100 + 1  # after the ramp
                assert np.median(y[j:j + 10]) > 1.2 * np.median(y[i - 10:i])
        if p is P.OVERFITTING:
            assert it.run.val_loss is not None
            if t.kind == "u_turn":
                v = it.run.val_loss
                assert t.onset_step in set(v.steps.tolist())
                assert v.values[-1] > v.values[v.steps == t.onset_step][0]
        if p is P.METRIC_CONTRADICTION:
            y = it.run.train_loss.values
            assert np.median(y[-10:]) < np.median(y[:10])
            if t.kind == "recall_zero":
                assert np.all(it.run["val_recall"].values == 0.0)
    assert kinds <= set(PATHOLOGY_KINDS[p]) | {k for k in kinds if "+" in k}


def test_overfitting_then_explosion_shows_both():
    # a run labelled with both shows its overfitting in full, over at least
    # six evaluations, before the explosion starts
    c = synthetic(60, seed=3, pathologies=[P.OVERFITTING, P.EXPLOSION], healthy_fraction=0.0, combo_fraction=1.0)
    both = [it for it in c if it.truth.labels == frozenset({P.OVERFITTING, P.EXPLOSION})]
    assert len(both) >= 20
    for it in both:
        t, v = it.truth, it.run.val_loss
        if t.kind.startswith("split_mismatch"):
            continue
        y = it.run.train_loss
        finite = np.isfinite(y.values)
        exp_onset = int(y.steps[np.argmax(~finite)]) if not finite.all() else None
        after = v.steps[(v.steps > t.onset_step)]
        if exp_onset is not None:
            after = after[after < exp_onset]
        assert after.size >= 6, (t.kind, t.onset_step, exp_onset)
        if t.kind.startswith("u_turn"):
            before = v.values[v.steps < (exp_onset if exp_onset is not None else 10**12)]
            j = int(np.flatnonzero(v.steps == t.onset_step)[0])
            assert before[j + 1:].max() > before[j]


def test_healthy_runs_are_healthy_looking():
    c = synthetic(60, seed=5, healthy_fraction=1.0)
    assert {it.truth.kind for it in c} <= set(HEALTHY_KINDS)
    for it in c:
        y = it.run.train_loss.values
        assert np.all(np.isfinite(y)) and np.all(y > 0)
        k = max(2, len(y) // 10)
        assert np.median(y[-k:]) < np.median(y[:k])
        if it.run.val_loss is not None:
            v = it.run.val_loss.values
            assert v[-1] <= 1.2 * v.min()  # no U-turn


def test_difficulty_controls_effect_size():
    easy = synthetic(60, seed=2, difficulty=0.0, pathologies=["explosion"], healthy_fraction=0)
    hard = synthetic(60, seed=2, difficulty=1.0, pathologies=["explosion"], healthy_fraction=0)
    e = [t.effect_size for t in easy.truths if t.kind == "divergence"]
    h = [t.effect_size for t in hard.truths if t.kind == "divergence"]
    assert min(e) > max(h)


def test_synthetic_parameter_errors():
    with pytest.raises(ParameterError):
        synthetic(5, difficulty=1.5)
    with pytest.raises(ParameterError):
        synthetic(5, pathologies=["nope"])
    with pytest.raises(ParameterError):
        synthetic(-1)


# --- corpus save / load ---------------------------------------------------------------------------


def test_save_load_roundtrip_is_identical(tmp_path, corpus):
    small = corpus[:25]
    small.save(tmp_path / "c")
    back = load_corpus(tmp_path / "c")
    assert len(back) == 25 and back.name == "synthetic"
    for a, b in zip(small, back):
        assert a.truth == b.truth
        assert a.run.run_id == b.run.run_id and a.run.steps_per_epoch == b.run.steps_per_epoch
        assert a.run.names == b.run.names
        for sa in a.run:
            sb = b.run[sa.name]
            assert sa.role == sb.role
            np.testing.assert_array_equal(sa.steps, sb.steps)
            np.testing.assert_array_equal(sa.values, sb.values)  # NaN == NaN here


def test_load_user_corpus(tmp_path):
    (tmp_path / "a.csv").write_text("step,objective,holdout\n0,1.0,\n1,0.5,0.6\n2,nan,\n3,0.2,0.7\n")
    (tmp_path / "b.csv").write_text("step,loss\n0,1\n1,0.5\n2,0.25\n")
    (tmp_path / "labels.json").write_text(json.dumps({
        "a": {"labels": ["explosion"], "onset_step": 2, "roles": {"objective": "train_loss", "holdout": "val_loss"}},
        "b": {"labels": []},
    }))
    c = load_corpus(tmp_path)
    assert [it.run_id for it in c] == ["a", "b"]
    assert c[0].run.val_loss.name == "holdout" and c[0].truth.onset_step == 2
    assert c[1].truth.healthy


def test_load_corpus_errors(tmp_path):
    with pytest.raises(UnreadableSourceError):
        load_corpus(tmp_path / "missing")
    with pytest.raises(UnreadableSourceError):
        load_corpus(tmp_path)
    (tmp_path / "labels.json").write_text(json.dumps({"x": {"labels": []}}))
    with pytest.raises(UnreadableSourceError, match="no run file"):
        load_corpus(tmp_path)
    (tmp_path / "labels.json").write_text(json.dumps({"x": {"labels": ["bogus"]}}))
    with pytest.raises(InputError):
        load_corpus(tmp_path)
    (tmp_path / "labels.json").write_text(json.dumps({"x": {"onset_step": 3}}))
    with pytest.raises(InputError, match="labels"):
        load_corpus(tmp_path)


# --- scoring --------------------------------------------------------------------------------------


def _runs(corpus):
    return {it.run_id: it.truth for it in corpus}


def test_oracle_scores_perfectly(corpus):
    res = run_benchmark(corpus, [Oracle(_runs(corpus))], progress=False)
    s = res.scores["oracle"]
    assert s["macro_f1"] == 1.0 and s["false_alarm_any"] == 0.0
    for p in P:
        r = s["pathologies"][p.value]
        assert r["precision"] == 1.0 and r["recall"] == 1.0 and r["f1"] == 1.0
        assert r["fp"] == 0 and r["fn"] == 0
    assert s["pathologies"]["explosion"]["onset_median_abs_steps"] == 0.0
    assert s["pathologies"]["periodic"]["period_median_rel_error"] == 0.0
    # p = 1e-6 on positives only: no healthy false positive at any level
    assert all(v == 0.0 for v in s["pathologies"]["explosion"]["calibration"].values())


def test_never_firing_detector(corpus):
    s = run_benchmark(corpus, [Never()], progress=False).scores["never"]
    for p in P:
        r = s["pathologies"][p.value]
        assert r["recall"] == 0.0
        assert math.isnan(r["precision"])
        assert r["f1"] == 0.0  # positives exist: missing them all is F1 0, not NaN
        assert math.isnan(r["calibration"]["0.01"])  # no p-values reported
    assert s["macro_f1"] == 0.0 and s["false_alarm_any"] == 0.0


def test_nan_flag_detector_counts(corpus):
    s = run_benchmark(corpus, [NanFlag()], progress=False).scores["nanflag"]
    r = s["pathologies"]["explosion"]
    n_nonfinite = sum(1 for it in corpus if not np.all(np.isfinite(it.run.train_loss.values)))
    n_nf_truth = sum(1 for t in corpus.truths if "non_finite" in t.kind)
    assert n_nonfinite == n_nf_truth  # only the non_finite kind produces NaN/Inf
    assert r["tp"] == n_nf_truth and r["fp"] == 0
    assert r["fn"] == r["n_pos"] - n_nf_truth
    assert r["precision"] == 1.0
    assert r["recall"] == pytest.approx(n_nf_truth / r["n_pos"])
    assert r["onset_median_abs_steps"] == 0.0


def test_score_by_hand():
    t = [Truth({P.EXPLOSION}, onset_step=50), Truth({P.EXPLOSION}, onset_step=50), Truth(), Truth(),
         Truth({P.OVERFITTING})]
    d = [
        [Detection(P.EXPLOSION, 52)],  # hit inside the window (5 steps of 100)
        [Detection(P.EXPLOSION, 90)],  # misplaced: FP and FN
        [Detection(P.EXPLOSION, 10, p_value=0.004)],  # false alarm on a healthy run
        [Finding(P.OVERFITTING, "x", "v", severity=Severity.INFO)],  # info: not a detection
        [],
    ]
    s = score(t, d, spans=[100] * 5)
    r = s["pathologies"]["explosion"]
    assert (r["tp"], r["fp"], r["fn"], r["misplaced"]) == (1, 2, 1, 1)
    assert r["precision"] == pytest.approx(1 / 3) and r["recall"] == 0.5
    assert r["f1"] == pytest.approx(2 / (2 + 2 + 1))
    assert r["false_alarm_rate"] == 0.5
    assert r["onset_median_abs_steps"] == pytest.approx(21.0)
    assert r["onset_within_tolerance"] == 0.5
    assert r["calibration"]["0.001"] == 0.0 and r["calibration"]["0.005"] == 0.5
    o = s["pathologies"]["overfitting"]
    assert o["recall"] == 0.0 and math.isnan(o["precision"]) and o["f1"] == 0.0
    nc = s["pathologies"]["non_convergence"]
    assert nc["n_pos"] == 0 and math.isnan(nc["f1"]) and math.isnan(nc["recall"])
    assert s["macro_over"] == ["explosion", "overfitting"]
    assert s["macro_f1"] == pytest.approx((2 / 5 + 0) / 2)
    assert s["false_alarm_any"] == 0.5


def test_onset_window_is_at_least_two_evaluation_intervals():
    # an overfitting onset lives on the evaluation grid: with evaluations
    # every 20 steps of a 200-step run, one interval (10 %) is wider than the
    # 5 % window; two intervals count, three do not
    t = [Truth({P.OVERFITTING}, onset_step=100, onset_resolution=20.0)] * 3
    d = [[Detection(P.OVERFITTING, 140)], [Detection(P.OVERFITTING, 61)], [Detection(P.OVERFITTING, 159)]]
    r = score(t, d, spans=[200] * 3)["pathologies"]["overfitting"]
    assert (r["tp"], r["misplaced"]) == (2, 1)
    # without a resolution the 5 % window (10 steps) applies
    r = score([Truth({P.OVERFITTING}, onset_step=100)], [d[0]], spans=[200])["pathologies"]["overfitting"]
    assert r["misplaced"] == 1
    # and the field travels through labels.json
    assert Truth.from_dict(t[0].to_dict()) == t[0]


def test_score_multilabel_and_period():
    t = [Truth({P.PERIODIC, P.OVERFITTING}, onset_step=10, period_steps=40.0)]
    d = [[Detection(P.PERIODIC, period_steps=42.0), Detection(P.OVERFITTING, onset_step=90)]]
    s = score(t, d, spans=[100])
    # multi-label truth: onset not checked, each label scored on its own
    assert s["pathologies"]["overfitting"]["tp"] == 1
    assert s["pathologies"]["periodic"]["period_median_rel_error"] == pytest.approx(0.05)
    assert s["pathologies"]["periodic"]["period_within_10pct"] == 1.0


def test_score_rejects_bad_input():
    with pytest.raises(ParameterError):
        score([Truth()], [], spans=[1])
    with pytest.raises(ParameterError):
        score([Truth()], [[]], spans=[1], onset_tolerance=-1)


# --- baselines ------------------------------------------------------------------------------------


def _run(loss, val=None, val_steps=None, **kw):
    data = {"loss": np.asarray(loss, float)}
    if val is not None:
        data["val_loss"] = (np.asarray(val_steps), np.asarray(val, float))
    return Run.from_dict(data, run_id="r", **kw)


def test_sagemaker_loss_not_decreasing_doc_example():
    # smdebug's 2019 test: losses 0.3, 0.33, 0.31, 0.30, 0.28 saved every 4 steps fire at step 12
    run = Run.from_dict({"loss": ([0, 4, 8, 12, 16], [0.3, 0.33, 0.31, 0.30, 0.28])}, run_id="r")
    out = SageMakerRules(save_interval=1).detect(run)
    lnd = [f for f in out if f.kind == "LossNotDecreasing"]
    assert lnd and lnd[0].onset_step == 12 and lnd[0].pathology is P.NON_CONVERGENCE


def test_sagemaker_overfit_and_exploding():
    y = np.linspace(1, 0.1, 100)
    y[70] = np.nan
    vs = np.arange(9, 100, 10)
    v = np.interp(vs, np.arange(100), np.linspace(1, 0.1, 100)) * 1.5
    out = SageMakerRules(save_interval=1).detect(_run(y, v, vs))
    kinds = {f.kind: f for f in out}
    assert kinds["ExplodingTensor"].onset_step == 70 and kinds["ExplodingTensor"].pathology is P.EXPLOSION
    assert kinds["Overfit"].pathology is P.OVERFITTING and kinds["Overfit"].onset_step == 9
    # at the default save interval of 500 steps the NaN at step 70 is never saved
    assert "ExplodingTensor" not in {f.kind for f in SageMakerRules().detect(_run(y, v, vs))}


def test_lightning_spike_and_early_stopping():
    y = np.full(50, 1.0) * np.linspace(1, 0.5, 50)
    y[30] = 5.0  # > mean + 2 * mean
    vs = np.arange(4, 50, 5)
    v = np.array([1.0, 0.9, 0.8, 0.85, 0.86, 0.87, 0.7, 0.6, 0.5, 0.4])
    out = LightningCallbacks().detect(_run(y, v, vs))
    spike = [f for f in out if f.kind == "SpikeDetection"][0]
    assert spike.onset_step == 30 and spike.pathology is P.EXPLOSION
    es = [f for f in out if f.kind == "EarlyStopping.patience"][0]
    assert es.pathology is P.OVERFITTING and es.onset_step == 14 and es.effect["fire_step"] == 29
    # 2.9x the running mean is below rtol = 2: no spike
    y2 = np.ones(50)
    y2[30] = 2.9
    assert not [f for f in LightningCallbacks().detect(_run(y2)) if f.kind == "SpikeDetection"]
    y2[30] = np.inf
    assert [f for f in LightningCallbacks().detect(_run(y2)) if f.kind == "SpikeDetection"][0].onset_step == 30


def test_keras_callbacks():
    y = np.linspace(1, 0.1, 40)
    y[25] = np.inf
    vs = np.arange(3, 40, 4)
    v = np.array([1.0, 0.8, 0.6, 0.61, 0.5, 0.4, 0.3, 0.2, 0.1, 0.05])
    out = {f.kind: f for f in KerasCallbacks().detect(_run(y, v, vs))}
    assert out["TerminateOnNaN"].onset_step == 25
    assert out["EarlyStopping"].onset_step == 11 and out["EarlyStopping"].effect["fire_step"] == 15  # patience 0
    assert "EarlyStopping" not in {f.kind for f in KerasCallbacks(patience=2).detect(_run(y, v, vs))}


def test_naive_thresholds():
    run = Run.from_dict({"loss": np.linspace(1, 1.0, 30), "val_recall": ([9, 19, 29], [0.0, 0.0, 0.0])}, run_id="r")
    out = {f.pathology for f in NaiveThresholds().detect(run)}
    assert out == {P.NON_CONVERGENCE, P.METRIC_CONTRADICTION}
    assert {f.pathology for f in NaiveThresholds().detect(_run(np.linspace(1, 3, 30)))} == {P.EXPLOSION}
    skipped = NaiveThresholds().detect(Run.from_dict({"val_loss": [1.0, 2.0]}, run_id="r"))
    assert isinstance(skipped, Skipped)


def test_baselines_never_crash_on_the_corpus(corpus):
    res = run_benchmark(corpus, ["sagemaker", "lightning", "keras", "naive"], progress=False)
    for name, s in res.scores.items():
        assert s["errors"]["count"] == 0, (name, s["errors"])
        assert 0.0 <= s["false_alarm_any"] <= 1.0


# --- runner and CLI -------------------------------------------------------------------------------


def test_runner_records_errors_and_parallel_matches_serial(corpus):
    small = corpus[:60]
    a = run_benchmark(small, ["naive", "keras", Boom()], progress=False, workers=1)
    b = run_benchmark(small, ["naive", "keras", Boom()], progress=False, workers=2, chunk_size=10)
    assert a.scores["boom"]["errors"]["count"] == 60
    assert "RuntimeError: bug" in a.scores["boom"]["errors"]["first"][0]
    for name in ("naive", "keras"):
        for p in P:
            assert a.scores[name]["pathologies"][p.value]["tp"] == b.scores[name]["pathologies"][p.value]["tp"]
            assert a.scores[name]["pathologies"][p.value]["fp"] == b.scores[name]["pathologies"][p.value]["fp"]
    text = a.table()
    assert "macro-F1" in text and "naive" in text and "boom" in text
    doc = json.loads(a.to_json())
    assert doc["scores"]["boom"]["pathologies"]["explosion"]["precision"] is None  # NaN -> null


def test_runner_rejects_unknown_detector(corpus):
    with pytest.raises(ParameterError, match="unknown detector"):
        run_benchmark(corpus[:3], ["nope"], progress=False)


def test_curvestat_entry_runs_with_the_registry(corpus):
    res = run_benchmark(corpus[:10], ["curvestat"], progress=False)
    assert res.scores["curvestat"]["errors"]["count"] == 0


def test_cli_main(tmp_path, capsys):
    ap = argparse.ArgumentParser()
    _cli.add_arguments(ap)
    out = tmp_path / "res.json"
    args = ap.parse_args(["--n", "40", "--seed", "1", "--detectors", "naive,keras", "--json", str(out), "--quiet",
                          "--workers", "1", "--save-corpus", str(tmp_path / "c")])
    assert _cli.main(args) == 0
    text = capsys.readouterr().out
    assert "naive" in text and "keras" in text and "macro-F1" in text
    assert json.loads(out.read_text())["meta"]["n_runs"] == 40
    args = ap.parse_args(["--corpus", str(tmp_path / "c"), "--detectors", "naive", "--quiet", "--workers", "1"])
    assert _cli.main(args) == 0
    args = ap.parse_args(["--corpus", str(tmp_path / "nowhere"), "--quiet"])
    assert _cli.main(args) == 2
    assert "error" in capsys.readouterr().err


def test_cli_loads_a_user_detector_by_import_path(tmp_path, monkeypatch, capsys):
    # a user's detector module on sys.path, named on the command line
    (tmp_path / "userdet.py").write_text(
        "from curvestat import Finding\n"
        "class NanFlagger:\n"
        "    name = 'nanflag'\n"
        "    def detect(self, run, config=None):\n"
        "        import numpy as np\n"
        "        s = run.train_loss\n"
        "        bad = np.flatnonzero(~np.isfinite(s.values)) if s is not None else []\n"
        "        return [Finding('explosion', 'non_finite', s.name, onset_step=int(s.steps[bad[0]]))] if len(bad) else []\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    from curvestat.cli import main

    assert main(["bench", "--n", "60", "--seed", "1", "--quiet", "--workers", "1", "--detectors", "userdet:NanFlagger"]) == 0
    out = capsys.readouterr().out
    assert "nanflag" in out
    assert main(["bench", "--n", "10", "--quiet", "--detectors", "nosuchmodule:X"]) == 2
