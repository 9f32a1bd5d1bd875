"""Publication: from the projection's facts to the cells every output shows.

``indicators`` says what is published (families and indicators), ``compute`` counts the families' cells,
``suppression`` is the disclosure-control algorithm on any additive table, ``disclosure`` applies it to
the families and derives medians, shares and ratios from what may be shown, ``feed`` builds the
indicator topic's messages, and ``publisher`` stores the result and sends the messages that changed.
"""
