"""The console: a stack as the OpsWorks console showed it (layers, instances, apps, each instance's last lifecycle
runs and their output, where the last update re-ran configure), read only from the stack's Pulumi state and outputs.

    model.py   the export and outputs -> a view model (pure; secrets decided from the data)
    page.py    the view model -> one static HTML page (jinja2, autoescaped, no JavaScript)
    source.py  a stack's export, outputs and last update through Pulumi's Automation API
    cli.py     `python -m stackkit console STACK [--local] [--serve PORT | --out DIR]`
"""

from stackkit.console.model import Console, build
from stackkit.console.page import render

__all__ = ["Console", "build", "render"]
