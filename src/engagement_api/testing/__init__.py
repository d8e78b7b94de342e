"""Testing a client against engagement-api: the stand-in as a Python object and as a pytest
fixture (``engagement_standin``, registered by the ``pytest11`` entry point; docs/standin.md).

>>> from engagement_api.testing import Standin  # doctest: +SKIP
>>> with Standin.start(seed=0) as standin:  # doctest: +SKIP
...     standin.client().totals(standin.post_ids["owned"], ["favorites"])
"""

from engagement_api.testing.standin import Standin

__all__ = ["Standin"]
