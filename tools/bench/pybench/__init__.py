"""The benchmark's Python side (`./dev bench`, `./dev bench-coldstart`): cost per order from the
functions' metering lines priced with `prices.json`, throughput and listing runs against the local
stack, and cold starts of the release builds. It drives the local stack (`tools.local`) and is not
part of it; `tools/local/__main__.py` only dispatches to it."""
