"""`python -m supplygraph.api.cli`: the same as the `supplygraph` command."""

from supplygraph.api.cli import main

main()
