"""The submitters' portal: a web application over the same sequence as ingestion (docs/portal.md)."""
