"""Lead line lists (线索, 逾期线索): the rows behind the dashboard's lead figures.

The leads area owns the work on a lead; these are read-only lists with exports.
"""

from __future__ import annotations

from web import linelists as pages
from web.dashboard import bp

pages.mount(bp)
