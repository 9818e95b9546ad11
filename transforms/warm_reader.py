"""Imported only by the forkserver of the isolated reader (transforms/isolated.py), once: fills
the caches a read needs (translations, table schemas, lazily imported modules), so that every
child forked from it starts warm instead of spending about 80 ms on them per file."""

import html  # noqa: F401 - the lazy imports of the readers, done once here
import xml.etree.ElementTree  # noqa: F401

import numpy  # noqa: F401
import pyarrow.compute  # noqa: F401
import pyarrow.csv  # noqa: F401
import python_calamine  # noqa: F401

from transforms.readers import warm_caches

warm_caches()
