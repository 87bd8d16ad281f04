"""The real corpus shipped with curvestat: archive, splits, counts, readers, CLI."""

from __future__ import annotations

import argparse
import zipfile
from collections import defaultdict
from importlib.resources import files

import pytest

from curvestat.bench import Corpus, LabelledRun, Truth, load_corpus, real_corpus
from curvestat.bench import _cli
from curvestat.bench.corpus import REAL_ARCHIVE, REAL_ENV
from curvestat.errors import ParameterError
from curvestat.io import read, sniff_format

#: runs per label and split, as documented in docs/bench.rst
COUNTS = {
    "dev": {"healthy": 116, "non_convergence": 31, "explosion": 31, "metric_contradiction": 23, "overfitting": 41, "periodic": 26},
    "test": {"healthy": 112, "non_convergence": 31, "explosion": 29, "metric_contradiction": 22, "overfitting": 41, "periodic": 25},
}
N_RUNS = {"dev": 262, "test": 253}
PATHOLOGIES = ("non_convergence", "explosion", "metric_contradiction", "overfitting", "periodic")


@pytest.fixture(scope="module")
def archive():
    res = files("curvestat.bench").joinpath(REAL_ARCHIVE)
    assert res.is_file(), "the real corpus archive is not in the package (package-data)"
    return res


@pytest.fixture(scope="module")
def corpus(archive, monkeypatch_module):
    monkeypatch_module.delenv(REAL_ENV, raising=False)
    return real_corpus()


@pytest.fixture(scope="module")
def monkeypatch_module():
    mp = pytest.MonkeyPatch()
    yield mp
    mp.undo()


def test_archive_is_small_and_compressed(archive):
    data = archive.read_bytes()
    assert len(data) < 8 * 2**20
    import io

    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        infos = zf.infolist()
        assert {i.compress_type for i in infos} == {zipfile.ZIP_LZMA}
        assert sum(i.file_size for i in infos) > 3 * len(data)


def test_counts_per_label_and_split(corpus):
    got = {sp: corpus.split(sp).counts() for sp in ("dev", "test")}
    for sp in ("dev", "test"):
        assert len(corpus.split(sp)) == N_RUNS[sp]
        for lab, n in COUNTS[sp].items():
            assert got[sp][lab] == n, (sp, lab, got[sp][lab], n)
    total = corpus.counts()
    assert len(corpus) >= 400
    assert total["healthy"] >= 130
    for p in PATHOLOGIES:
        assert total[p] >= 40, p


def test_meta_records_versions_command_and_drops(corpus):
    m = corpus.meta
    for key in ("torch", "sklearn", "command", "dropped", "n_dropped"):
        assert key in m
    assert m["n_dropped"] == len(m["dropped"])
    assert all(d["why"] for d in m["dropped"])


def test_splits_are_disjoint_by_seed_and_every_recipe_is_in_both(archive):
    import io
    import json

    with zipfile.ZipFile(io.BytesIO(archive.read_bytes())) as zf:
        doc = json.loads(zf.read("labels.json"))
    seeds = defaultdict(lambda: defaultdict(set))
    for rid, e in doc.items():
        if rid == "_meta":
            continue
        assert e["split"] in ("dev", "test")
        seeds[e["recipe"]][e["split"]].add(e["seed"])
    for recipe, by in seeds.items():
        assert by["dev"] and by["test"], f"recipe {recipe} is not in both splits"
        assert not (by["dev"] & by["test"]), recipe


def test_split_filter_and_names(corpus):
    dev, test = corpus.split("dev"), corpus.split("test")
    assert len(dev) + len(test) == len(corpus)
    assert {t.split for t in dev.truths} == {"dev"}
    assert {t.split for t in test.truths} == {"test"}
    assert corpus.splits() == ["dev", "test"]
    assert dev.name == "real (dev)"
    assert corpus.split("all") is corpus
    with pytest.raises(ParameterError):
        corpus.split("train")
    assert len(real_corpus("dev")) == len(dev)
    with pytest.raises(ParameterError):
        real_corpus("train")


def test_every_run_has_a_train_loss_and_an_evaluation(corpus):
    for it in corpus:
        assert it.run.train_loss is not None, it.run_id
        assert it.run.val_loss is not None, it.run_id


def test_every_run_reads_through_curvestat_io_read(archive, tmp_path, corpus):
    """Extracted, each file is sniffed and read like a user's log, to the same series as in memory."""
    import io

    with zipfile.ZipFile(io.BytesIO(archive.read_bytes())) as zf:
        zf.extractall(tmp_path)
    formats = set()
    by_id = {it.run_id: it for it in corpus}
    for f in sorted((tmp_path / "runs").iterdir()):
        formats.add(sniff_format(f))
        run = read(f, steps_per_epoch=by_id[f.stem].run.steps_per_epoch)
        mem = by_id[f.stem].run
        assert run.names == mem.names, f.name
        for a, b in zip(run, mem):
            assert a.role == b.role and (a.steps == b.steps).all()
    assert formats == {"csv", "json"}
    again = load_corpus(tmp_path)
    assert [it.run_id for it in again] == [it.run_id for it in corpus]
    assert again.truths == corpus.truths


def test_four_log_formats_present(archive):
    import io
    import json

    with zipfile.ZipFile(io.BytesIO(archive.read_bytes())) as zf:
        doc = json.loads(zf.read("labels.json"))
    fmts = {e["format"] for k, e in doc.items() if k != "_meta"}
    models = {e["model"] for k, e in doc.items() if k != "_meta"}
    assert fmts == {"wide", "hf", "keras", "lightning"}
    assert {"mlp", "cnn", "twohead", "gru", "lstm", "finetune"} <= models


def test_env_variable_overrides(tmp_path, monkeypatch):
    run = read({"loss": [3.0, 2.0, 1.0, 0.5], "val_loss": [3.1, 2.2, 1.3, 0.9]})
    c = Corpus([LabelledRun(read(run, run_id="a"), Truth(split="dev")),
                LabelledRun(read(run, run_id="b"), Truth(labels=frozenset({"explosion"}), onset_step=1, split="test"))],
               name="mine")
    c.save(tmp_path / "c")
    monkeypatch.setenv(REAL_ENV, str(tmp_path / "c"))
    got = real_corpus()
    assert [it.run_id for it in got] == ["a", "b"]
    assert [t.split for t in got.truths] == ["dev", "test"]
    assert len(real_corpus("test")) == 1
    # a zip of a corpus directory reads the same
    z = tmp_path / "c.zip"
    with zipfile.ZipFile(z, "w") as zf:
        for f in (tmp_path / "c").rglob("*"):
            if f.is_file():
                zf.write(f, f.relative_to(tmp_path / "c").as_posix())
    assert load_corpus(z).truths == got.truths


def _ns(**kw):
    base = dict(corpus="real", split="both", n=10, seed=0, difficulty=None, detectors="naive", alpha=None, workers=1,
                json_out=None, save_corpus=None, quiet=True)
    base.update(kw)
    return argparse.Namespace(**base)


def test_cli_prints_dev_and_test_tables(capsys, monkeypatch, tmp_path):
    monkeypatch.delenv(REAL_ENV, raising=False)
    assert _cli.main(_ns(json_out=str(tmp_path / "o.json"))) == 0
    out = capsys.readouterr().out
    assert "corpus: real (dev)" in out and "corpus: real (test)" in out
    import json

    assert set(json.loads((tmp_path / "o.json").read_text())) == {"dev", "test"}
    assert _cli.main(_ns(split="dev")) == 0
    out = capsys.readouterr().out
    assert "corpus: real (dev)" in out and "real (test)" not in out
