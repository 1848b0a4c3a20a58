"""What each view of the pages shows, apart from how it is wired: frames in, figures and texts out.

A view is a plain function of the view state (region, day, metric, options ...) that returns what a page, the wall,
the briefing pack, the warm-up or the API shows: plotly figures as dicts or ``go.Figure``, texts, lists and dicts
of plain values, DataFrames, Dash download dicts. Views may import ``data``, ``figures``, ``analytics`` and ``geo``;
never ``dash``, ``flask``, ``callbacks`` or ``layouts``: the Dash components (``html.*``), ``Patch`` building and
the callbacks' inputs and outputs belong to ``callbacks/`` (and small renderers in ``layouts/``), so every caller
takes the same view and tests call it without a page.
"""
