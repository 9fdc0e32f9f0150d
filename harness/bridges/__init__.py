"""Bridges to the wider ecosystem.

* ``mteb_tasks``: any installed mteb task as a TaskSpec (``mteb:NAME``), scored by our evaluators.
* ``mteb_results``: mteb's published results repository into the store as *imported* results.
* ``published``: our score next to the published one for the same model and task.

Nothing here is imported by ``import harness``; mteb itself is imported only when a catalog of
its tasks must be built (see ``mteb_tasks``).
"""
