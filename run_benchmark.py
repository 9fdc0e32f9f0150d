#!/usr/bin/env python3
"""Thin CLI entry: ``python run_benchmark.py run|list|report ...`` (see README)."""

import sys

from harness.cli import main

if __name__ == "__main__":
    sys.exit(main())
