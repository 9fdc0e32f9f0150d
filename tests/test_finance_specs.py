"""The finance suite's specs (tasks/finance) and FinMTEB reference table (references/finmteb.yaml)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

import harness
from harness.data.builders import get_builder
from harness.registry import discover_specs

REPO = Path(__file__).resolve().parent.parent
FINMTEB_DIR = REPO / "tasks" / "finance" / "finmteb"
LOCAL_DIR = REPO / "tasks" / "finance" / "local"

# FinMTEB's English tasks as its code defines them: github.com/yixuantt/FinMTEB at
# d4bf6fee5e76bb2d6bbbde4554b0c73e0c494ed8, finance_mteb/tasks/<Type>/eng/*.py (and task_list.py).
# name -> (FinMTEB type, hub dataset, revision, FinMTEB eval split, FinMTEB main score)
FINMTEB = {
    "FiQA2018Retrieval": ("Retrieval", "FinanceMTEB/FiQA", "d52555df9c5c856a01931c112e03eaa0f2d8d6d4", "train", "ndcg_at_10"),
    "FinanceBenchRetrieval": ("Retrieval", "FinanceMTEB/FinanceBench", "4738010357e3dda4b337abbde86d5b36c3118c8f", "train", "ndcg_at_10"),
    "HC3Retrieval": ("Retrieval", "FinanceMTEB/HPC3-finance", "7018353fb281b866e5934eeb496251be4ad3585f", "train", "ndcg_at_10"),
    "Apple10KRetrieval": ("Retrieval", "FinanceMTEB/Apple-10K-2022", "27d0b84029e5de607fc7a8e2fb2a315e9b71f570", "train", "ndcg_at_10"),
    "FinQARetrieval": ("Retrieval", "FinanceMTEB/FinQA", "1d4500eefb223c2977187649928561e14108042a", "train", "ndcg_at_10"),
    "TATQARetrieval": ("Retrieval", "FinanceMTEB/TATQA", "11b15221dd850044dc2261ce633e692851c8b7e2", "train", "ndcg_at_10"),
    "USNewsRetrieval": ("Retrieval", "FinanceMTEB/USnews", "dda970333494c509262e91d2b44d43430e985b3c", "train", "ndcg_at_10"),
    "TradeTheEventEncyclopediaRetrieval": ("Retrieval", "FinanceMTEB/TradeTheEventEncyclopedia", "7fa70ba6624011d65a311df86193b4b5587969bc", "train", "ndcg_at_10"),
    "TradeTheEventNewsRetrieval": ("Retrieval", "FinanceMTEB/TradeTheEventNews", "9d499d833355b8ef1810073e5f2aa174d743d4d0", "train", "ndcg_at_10"),
    "TheGoldmanEnRetrieval": ("Retrieval", "FinanceMTEB/TheGoldmanEncyclopedia-en", "c33ce9ced2224b9c6d9e425196edc36f53400ec1", "train", "ndcg_at_10"),
    "FinancialPhraseBankClassification": ("Classification", "FinanceMTEB/financial_phrasebank", "14efe6ac2635395e768682e0b91ce794b50c7ff3", "train", "accuracy"),
    "FinSentClassification": ("Classification", "FinanceMTEB/FinSent", "68ee0f0abf596e371ef6a308f685071e3b737bbb", "test", "accuracy"),
    "FiQAClassification": ("Classification", "FinanceMTEB/FiQA_ABSA", "afa907ab4c6441afb8ee70bd99802bb707d3d2ab", "test", "accuracy"),
    "SemEva2017Classification": ("Classification", "FinanceMTEB/SemEva2017_Headline", "f0e198ba04c23d949ef803ce32ee1e4f2d8d3696", "test", "accuracy"),
    "FLSClassification": ("Classification", "FinanceMTEB/FLS", "39b6719f1d7197df4498fea9fce20d4ad782a083", "test", "accuracy"),
    "ESGClassification": ("Classification", "FinanceMTEB/ESG", "521d56feabadda80b11d6adcc6b335d4c5ad8285", "test", "accuracy"),
    "FOMCClassification": ("Classification", "FinanceMTEB/FOMC", "cdaf1306a24bc5e7441c7c871343efdf4c721bc2", "test", "accuracy"),
    "FinancialFraudClassification": ("Classification", "FinanceMTEB/FinancialFraud", "e569a69e058ad8504f03556cd05c36700767d193", "test", "accuracy"),
    "MInDS14EnClustering": ("Clustering", "FinanceMTEB/MInDS-14-en", "141ac6a9010b851452a9327edfda190d37399b15", "test", "v_measure"),
    "ComplaintsClustering": ("Clustering", "FinanceMTEB/Complaints", "6704122294b7693f5e544cdde1e4a3e80b291b76", "test", "v_measure"),
    "PiiClustering": ("Clustering", "FinanceMTEB/synthetic_pii_finance_en", "5021671d60a324d576a7b57e4c4e13bfcf857a4d", "test", "v_measure"),
    "FinanceArxivS2SClustering": ("Clustering", "FinanceMTEB/FinanceArxiv-s2s", "78f66d3bbea9b1d7f11df84bc55b21b24302dcee", "test", "v_measure"),
    "FinanceArxivP2PClustering": ("Clustering", "FinanceMTEB/FinanceArxiv-p2p", "5cc8768f04d39e9a16b84fc236dec93d8b173b64", "test", "v_measure"),
    "WikiCompany2IndustryClustering": ("Clustering", "FinanceMTEB/WikiCompany2Industry-en", "9b7c45122b764fc1e09c5b29cee887cfa4f8f395", "test", "v_measure"),
    "FinFactReranking": ("Reranking", "FinanceMTEB/FinFact-reranking", "70435b4984c687051ecf38b9d2686f33345dcced", "test", "map"),
    "FiQA2018Reranking": ("Reranking", "FinanceMTEB/FiQA-reranking", "f6934c7980c19a3acb8aeba3b66b4766fbb4b9db", "test", "map"),
    "HC3Reranking": ("Reranking", "FinanceMTEB/HPC3-reranking", "538a43bb89e86fd40a8d1b9c7e630f8c3aa67a6c", "test", "map"),
    "HeadlineACPairClassification": ("PairClassification", "FinanceMTEB/HeadlinePDU-PairClassification", "afa5a612a01b9c0a8058fba44a3bdf66173583eb", "test", "ap"),
    "HeadlinePDDPairClassification": ("PairClassification", "FinanceMTEB/HeadlinePDD-PairClassification", "ad0150ed63940e88846659e46be5138aa0db6c85", "test", "ap"),
    "HeadlinePDUPairClassification": ("PairClassification", "FinanceMTEB/HeadlinePDU-PairClassification", "afa5a612a01b9c0a8058fba44a3bdf66173583eb", "test", "ap"),
    "FINAL": ("STS", "FinanceMTEB/Final", "00506d0f1853ebe9fcc5112fb36a4cc4cc521695", "test", "cosine_spearman"),
    "FinSTS": ("STS", "FinanceMTEB/FinSTS", "09e270b1afe87a65dd41c6292e3c8905220bc290", "test", "cosine_spearman"),
    "Ectsum": ("Summarization", "FinanceMTEB/ECTsum", "036a3cbc49ce9e77af1832693a32bfdf6207bb57", "test", "cosine_spearman"),
    "FINDsum": ("Summarization", "FinanceMTEB/FINDsum", "0ca87ef0286fc1451841761a684548dc1ca36070", "test", "cosine_spearman"),
    "FNS2022sum": ("Summarization", "FinanceMTEB/FNS", "3a6eaec26efc16f5668d0c1511b4309152998466", "test", "cosine_spearman"),
}
# FinMTEB's type -> (our type, our main score). FinMTEB scores "summarization" as STS of (text, summary).
TYPES = {
    "Retrieval": ("retrieval", "ndcg_at_10"),
    "Classification": ("classification", "accuracy"),
    "Clustering": ("clustering", "v_measure"),
    "Reranking": ("reranking", "map_at_1000"),
    "PairClassification": ("pair_classification", "max_ap"),
    "STS": ("sts", "cosine_spearman"),
    "Summarization": ("sts", "cosine_spearman"),
}
# FinMTEB renames these columns in dataset_transform.
COLUMNS = {
    "SemEva2017Classification": {"text": "sentence"},
    "FOMCClassification": {"text": "sentence"},
    "FinancialFraudClassification": {"text": "sentence"},
    "HeadlineACPairClassification": {"sentence1": "sent1", "sentence2": "sent2"},
    "HeadlinePDDPairClassification": {"sentence1": "sent1", "sentence2": "sent2"},
    "HeadlinePDUPairClassification": {"sentence1": "sent1", "sentence2": "sent2"},
    "Ectsum": {"sentence1": "text", "sentence2": "summary", "score": "score"},
    "FINDsum": {"sentence1": "text", "sentence2": "summary", "score": "score"},
    "FNS2022sum": {"sentence1": "text", "sentence2": "summary", "score": "score"},
}
LOCAL = {
    "FinancialPhraseBankAllAgreeClassification": "classification",
    "FinancialPhraseBankAllAgreeClustering": "clustering",
    "TATQAEvidenceRetrieval": "retrieval",
    "TATQAEvidenceReranking": "reranking",
    "TATQAParagraphPairClassification": "pair_classification",
    "TATQAAnswerTypeClassification": "classification",
}


@pytest.fixture(scope="module")
def specs() -> dict:
    return discover_specs()


def local_folder(name: str) -> str:
    """The layout convention: lower-case, no punctuation, no trailing classification/clustering/retrieval."""
    folded = re.sub(r"[^a-z0-9]", "", name.lower())
    return re.sub(r"(classification|clustering|retrieval)$", "", folded)


def test_every_finance_spec_is_valid_and_listed(specs: dict) -> None:
    finance = {name for name, spec in specs.items() if "finance" in spec.suite}
    assert finance == set(FINMTEB) | set(LOCAL)
    assert {name for name, spec in specs.items() if "finmteb" in spec.suite} == set(FINMTEB)
    listed = [spec.name for spec in harness.get_tasks(suite="finance")]
    assert sorted(listed) == sorted(finance)
    assert all(specs[name].domain == "finance" for name in finance)


def test_finmteb_counts_by_type() -> None:
    from collections import Counter

    assert Counter(kind for kind, *_ in FINMTEB.values()) == {
        "Retrieval": 10, "Classification": 8, "Clustering": 6, "Reranking": 3,
        "PairClassification": 3, "Summarization": 3, "STS": 2,
    }


@pytest.mark.parametrize("name", sorted(FINMTEB))
def test_finmteb_spec_matches_finmteb(specs: dict, name: str) -> None:
    kind, hf, revision, split, _ = FINMTEB[name]
    spec = specs[name]
    assert spec.suite == ["finance", "finmteb"]
    assert (spec.type, spec.main_score) == TYPES[kind]
    assert spec.description and spec.reference and spec.citation and spec.license
    assert "FinMTEB" in spec.citation
    assert spec.column_map == {**spec.column_map, **COLUMNS.get(name, {})}
    assert spec.data.local == ("finmteb_tatqa" if name == "TATQARetrieval" else local_folder(name))
    if name == "HeadlineACPairClassification":
        # FinMTEB loads the PDU data here; we keep no hub source rather than score PDU twice.
        assert spec.data.hf is None and spec.data.local != specs["HeadlinePDUPairClassification"].data.local
        return
    assert (spec.data.hf, spec.data.revision) == (hf, revision)
    assert re.fullmatch(r"[0-9a-f]{40}", spec.data.revision)
    if name == "FinancialPhraseBankClassification":
        # FinMTEB evaluates 'train', the split the probe trains on; we score 'test'.
        assert split == "train" and (spec.data.train_split, spec.data.eval_split) == ("train", "test")
    else:
        assert spec.data.eval_split == split
    if spec.type == "clustering":
        assert spec.options["max_fraction_of_documents_to_embed"] is None


def test_no_two_finance_tasks_share_data(specs: dict) -> None:
    sources = [(s.data.hf, s.data.revision, s.data.hf_subset) for s in specs.values() if "finance" in s.suite and s.data.hf]
    assert len(sources) == len(set(sources))
    locals_ = [s.data.local for s in specs.values() if "finance" in s.suite and s.data.local]
    assert len(locals_) == len(set(locals_))


def test_local_specs_use_registered_builders(specs: dict) -> None:
    for name, kind in LOCAL.items():
        spec = specs[name]
        assert spec.type == kind and spec.suite == ["finance"]
        assert spec.data.builder and callable(get_builder(spec.data.builder))
        assert spec.license and spec.reference and spec.description


def test_local_specs_name_files_in_the_shared_data(specs: dict, shared_datasets: Path) -> None:
    for name in LOCAL:
        for key, value in specs[name].data.builder_options.items():
            if key.endswith("file"):
                assert (shared_datasets / value).is_file(), (name, key, value)


def test_reference_table() -> None:
    table = yaml.safe_load((REPO / "references" / "finmteb.yaml").read_text(encoding="utf-8"))
    assert table["name"] == "finmteb" and "Table 1" in table["source"]
    assert table["rows"] == []  # the paper gives no per-task numbers
    by_model: dict[str, dict[str, float]] = {}
    for row in table["type_averages"]:
        assert 0.0 <= row["score"] <= 1.0 and row["source"] == "Table 1"
        by_model.setdefault(row["model"], {})[row["task_type"]] = row["score"]
    assert len(by_model) == 15
    types = {"sts", "retrieval", "classification", "clustering", "reranking", "pair_classification", "summarization"}
    for scores in by_model.values():
        assert set(scores) == types | {"mean_of_types"}
        mean = sum(scores[t] for t in types) / len(types)
        assert scores["mean_of_types"] == pytest.approx(mean, abs=1.5e-4)  # Avg. is the mean of the type means
