"""`python -m stackkit import opsworks`: an OpsWorks stack (a CloudFormation template, saved `describe-*` output or the
live API) as a stackkit project: Pulumi.yaml, Pulumi.<stack>.yaml, layers/<name>/ and IMPORT.md (docs/importing.md).

    cloudformation.py, describe.py, live.py   each input -> a Snapshot (snapshot.py: the API's records)
    mapping.py                                Snapshot -> the stack file, the layers, what the report says (pure)
    recipes.py                                each event's recipes: covered, dropped, or to port (the event stops)
    report.py, write.py                       IMPORT.md; the files, written only when all of the import succeeds
"""

from __future__ import annotations

import argparse
import re
from pathlib import Path

from stackkit.errors import OpsWorksImportError
from stackkit.importer.mapping import Options, project
from stackkit.importer.snapshot import Snapshot

__all__ = ["register", "run"]


def _snapshot(args: argparse.Namespace) -> Snapshot:
    if args.cloudformation:
        from stackkit.importer.cloudformation import from_template
        values = {}
        for item in args.parameter or []:
            key, sep, value = item.partition("=")
            if not sep:
                raise OpsWorksImportError([f"--parameter {item}: write NAME=VALUE"])
            values[key] = value
        return from_template(Path(args.cloudformation), region=args.region, parameters=values, stack_name=args.stack)
    if args.describe:
        from stackkit.importer.describe import from_folder
        return from_folder(Path(args.describe))
    if not args.region:
        raise OpsWorksImportError(["--stack-id needs --region (the stack's region, e.g. us-east-1)"])
    from stackkit.importer.live import from_api
    return from_api(args.stack_id, args.region, endpoint_url=args.endpoint_url)


def run(args: argparse.Namespace) -> int:
    from stackkit.importer import report, write

    if not re.match(r"^[A-Za-z0-9_.-]+$", args.stack):
        raise OpsWorksImportError([f"--stack {args.stack!r}: a Pulumi stack name is letters, digits, - _ ."])
    key = Path(args.ssh_public_key).read_text().strip() if args.ssh_public_key else None
    snap = _snapshot(args)
    proj = project(snap, Options(stack=args.stack, adopt=args.adopt, ssh_public_key=key,
                                 admin_cidrs=list(args.admin_cidr or [])))
    out = Path(args.out)
    text = report.render(proj, snap.source, args.stack, Path(args.cookbooks) if args.cookbooks else None)
    write.write(out, write.files(proj, args.stack, snap.source, text, out), force=args.force)
    to_port = sum(r.status == "port" for la in proj.layers.values() for rs in la.recipes.values() for r in rs)
    print(f"wrote {out}/: Pulumi.{args.stack}.yaml, {len(proj.layers)} layer(s), IMPORT.md "
          f"({len(proj.secrets)} secret(s) to set, {to_port} recipe(s) to port, {len(proj.adopted)} adopted)")
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("import", help="import a stack from another tool: `import opsworks` (docs/importing.md)")
    kinds = p.add_subparsers(dest="kind", required=True)
    o = kinds.add_parser("opsworks", help="an OpsWorks stack from its CloudFormation template, saved describe-* "
                                          "output or the live API, as a stackkit project in --out")
    src = o.add_mutually_exclusive_group(required=True)
    src.add_argument("--cloudformation", metavar="FILE", help="a CloudFormation template (JSON or YAML)")
    src.add_argument("--describe", metavar="DIR", help="a folder of saved `aws opsworks describe-*` output")
    src.add_argument("--stack-id", help="the live stack (boto3, your AWS credentials); needs --region")
    o.add_argument("--region", help="the stack's region (a template's AWS::Region; default us-east-1)")
    o.add_argument("--stack", required=True, help="the Pulumi stack name: writes Pulumi.<stack>.yaml")
    o.add_argument("--out", required=True, metavar="DIR", help="the project folder to write (new or empty)")
    o.add_argument("--adopt", action="store_true", help="import the running EC2 instances, Elastic IPs, EBS volumes "
                                                         "and RDS instances on the first up instead of creating them")
    o.add_argument("--parameter", action="append", metavar="NAME=VALUE", help="a template parameter's value")
    o.add_argument("--ssh-public-key", metavar="FILE", help="the deploy key's public half (else a placeholder)")
    o.add_argument("--admin-cidr", action="append", metavar="CIDR", help="an office/VPN range for SSH (repeat)")
    o.add_argument("--cookbooks", metavar="DIR", help="a checkout of the custom cookbooks: IMPORT.md lists the "
                                                      "node attributes each recipe to port reads")
    o.add_argument("--endpoint-url", help="with --stack-id: the API endpoint to ask instead of AWS's")
    o.add_argument("--force", action="store_true", help="replace a non-empty --out")
    o.set_defaults(fn=run)
