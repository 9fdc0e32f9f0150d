"""Executors run (model, task) units: ``local`` here, ``ray`` on a cluster; both call ``runner.execute_unit``."""
