"""mteb's published results repository into the store (``import-results``).

* :mod:`.layout`: one result file of either mteb layout, NaN/Infinity as None.
* :mod:`.meta`: which model (name, revision, facts) a revision folder holds.
* :mod:`.revisions`: several revisions of one model, joined as mteb's ``join_revisions``.
* :mod:`.document`: the stored document, and mteb's per-benchmark rows of it.
* :mod:`.importer`: the import itself, with its summary.
"""

from harness.bridges.mteb_results.document import benchmark_rows
from harness.bridges.mteb_results.importer import (
    PUBLISHED_SUFFIX,
    ImportSummary,
    import_results,
)

__all__ = ["PUBLISHED_SUFFIX", "ImportSummary", "benchmark_rows", "import_results"]
