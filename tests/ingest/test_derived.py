"""`benchmarks/derived.csv`: derived operating points read into `benchmark_derivations`."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

from pipelines.contract.errors import InputError
from pipelines.contract.schema import BENCHMARK_DERIVATIONS
from pipelines.ingest.readers import derived
from pipelines.ingest.readers.derived import DERIVED_FILE, read_derivations
from pipelines.ingest.sources import SOURCES

HEADER = "accelerator,model,from_accelerator,throughput_ratio,source\n"


def write_derived(data: Path, text: str) -> Path:
    path = data / DERIVED_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def problems_of(error: pytest.ExceptionInfo[InputError]) -> list[tuple]:
    return [(p.file, p.row, p.field, p.message) for p in error.value.problems]


def test_derivations_are_read_with_names_as_keys(tmp_path: Path) -> None:
    write_derived(
        tmp_path,
        HEADER + "b300,deepseek-ai/DeepSeek-R1-0528,NVIDIA B200-SXM-180GB,1.5,vendor claim\n"
        "GB300,deepseek-r1,gb200,1.4,estimate\n"
        "TPU-v7,llama2-70b-99,H100,2,lab ratio\n",
    )
    frame = read_derivations(tmp_path)
    assert frame.schema == pl.Schema(BENCHMARK_DERIVATIONS.schema)
    assert frame.rows() == [
        ("B300", "deepseek-r1", "B200", 1.5, "vendor claim", DERIVED_FILE),
        ("GB300", "deepseek-r1", "GB200", 1.4, "estimate", DERIVED_FILE),
        ("tpu-v7", "llama2-70b", "H100", 2.0, "lab ratio", DERIVED_FILE),
    ]


def test_without_the_file_the_table_is_empty(tmp_path: Path) -> None:
    (tmp_path / "benchmarks").mkdir()
    frame = read_derivations(tmp_path)
    assert frame.height == 0
    assert frame.schema == pl.Schema(BENCHMARK_DERIVATIONS.schema)


def test_derivation_problems_name_row_and_field(tmp_path: Path) -> None:
    write_derived(
        tmp_path,
        HEADER + "B300,deepseek-r1,B200,1.5,a\n"
        "b300,deepseek-r1,H200,1.2,same key as row 2 once mapped\n"
        "H200,deepseek-r1,nvidia h200-sxm-141gb,1,itself\n"
        "B300,llama2-70b,B200,0,zero\n"
        "B300,gpt-oss-120b,B200,150,a unit slip\n"
        "B300,qwen3-235b,B200,fast,text\n"
        ",qwen3-235b,B200,1.1,no accelerator\n",
    )
    with pytest.raises(InputError) as error:
        read_derivations(tmp_path)
    found = problems_of(error)
    assert [p[1:3] for p in found] == [
        (3, "accelerator"),
        (4, "from_accelerator"),
        (5, "throughput_ratio"),
        (6, "throughput_ratio"),
        (7, "throughput_ratio"),
        (8, "accelerator"),
    ]
    assert all(p[0] == DERIVED_FILE for p in found)
    messages = [p[3] for p in found]
    assert messages[0] == "duplicate accelerator/model 'B300, deepseek-r1' (first on row 2)"
    assert messages[1].startswith("'H200' is derived from itself")
    assert messages[2].startswith("0 is out of range (must be > 0 and <= 100")
    assert messages[3].startswith("150 is out of range")
    assert messages[4] == "expected a finite number, got 'fast'"
    assert messages[5] == "missing value"


def test_a_missing_column_is_a_problem(tmp_path: Path) -> None:
    write_derived(tmp_path, "accelerator,model,throughput_ratio,source\nB300,deepseek-r1,1.5,a\n")
    with pytest.raises(InputError) as error:
        read_derivations(tmp_path)
    assert problems_of(error) == [
        (DERIVED_FILE, None, "from_accelerator", "required column is missing")
    ]


def test_derivations_are_a_source_of_their_own() -> None:
    assert derived.SOURCE in SOURCES
    assert derived.SOURCE.tables == ("benchmark_derivations",)
    assert derived.SOURCE.patterns == (DERIVED_FILE,)
    assert derived.SOURCE.optional
    benchmarks = next(s for s in SOURCES if s.name == "benchmarks")
    assert DERIVED_FILE in benchmarks.exclude
    assert SOURCES.index(derived.SOURCE) == SOURCES.index(benchmarks) + 1
