"""The playground: numnet training live in the browser (``numnet playground``)."""
