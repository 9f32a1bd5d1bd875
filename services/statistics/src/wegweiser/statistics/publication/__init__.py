"""Publication: from the projection's facts to the cells every output shows.

``indicators`` says what is published (families and indicators), ``compute`` counts the families' cells,
``suppression`` is the disclosure-control algorithm on any additive table, ``disclosure`` applies it to
the families and derives medians, shares and ratios from what may be shown, and ``publisher`` stores the
result and feeds what changed to the indicator topic.
"""
