"""The read side: HTTP API, dashboard, charts and downloads, all from the published cells."""
