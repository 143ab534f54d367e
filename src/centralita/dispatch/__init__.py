"""Live routing: the runner that feeds the pure router (`centralita.routing`) from the committed events and
turns its decisions into actions (`runner.py`), rebuilt from the store on start (`snapshot.py`), with one
leader per database (`leader.py`) and live queue statistics (`stats.py`)."""
