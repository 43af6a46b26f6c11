"""Search: the query model, its backends and the annotations joined into results."""
