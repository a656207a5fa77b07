"""One module per command family of the ``seedchip`` CLI."""
