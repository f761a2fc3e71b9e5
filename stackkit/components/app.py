"""stackkit:index:App — an application: code from a repository at a revision (or an archive), deployed to layers.

The deploy commands themselves belong to the instances (one per instance and app: stackkit.components.lifecycle);
the App groups what is the app's own: its public record (source, revision, domains, layers, where it runs), as outputs
other programs and `pulumi stack output` can read. Secret environment values never appear here."""

from __future__ import annotations

import pulumi

from stackkit.cluster.state import source_record
from stackkit.config.models import AppSettings


class App(pulumi.ComponentResource):
    def __init__(self, name: str, settings: AppSettings, instances: list[str],
                 opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("stackkit:index:App", name, None, opts)
        self.record = {
            "source": source_record(settings.source, here=False),
            "layers": list(settings.layers),
            "domains": list(settings.domains),
            "instances": instances,
            "environment_names": sorted(settings.environment),
            "secret_environment_names": sorted(settings.secret_environment),
            "data_source": settings.data_source,
        }
        self.register_outputs(self.record)
