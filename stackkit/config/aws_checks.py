"""Checks of a validated StackConfig against AWS's limits: stack tags (at each tag's path), the region's AZ count and the
EBS rules applied to a layer volume after its overrides. One 'path: problem; fix' line each."""

from __future__ import annotations

from collections.abc import Iterator

from stackkit.aws import policies
from stackkit.config import aws_rules
from stackkit.config.layerspec import LayerSpec
from stackkit.config.models import StackConfig
from stackkit.config.schedule import SCHEDULE_DESCRIPTION_MAX

# stackkit adds its own tags to every resource: stackkit:stack, stackkit:layers, stackkit:instance, Name and
# stackkit:mount_point at most, so a stack may set AWS's limit minus those.
STACKKIT_TAGS = 5


def tags(cfg: StackConfig, specs: dict[str, LayerSpec]) -> Iterator[str]:
    """stack.tags go on every resource: AWS's tag restrictions, at the tag's own path."""
    given, limit = cfg.stack.tags, aws_rules.TAG_LIMIT - STACKKIT_TAGS
    if len(given) > limit:
        yield (f"stack.tags: {len(given)} tags; AWS allows {aws_rules.TAG_LIMIT} per resource and stackkit adds up to "
               f"{STACKKIT_TAGS} of its own, so at most {limit}: remove some")
    longest = aws_rules.TAG_KEY_MAX["ec2"]
    for key, value in given.items():
        path = f"stack.tags.{key[:40]}{'...' if len(key) > 40 else ''}"
        if not 1 <= len(key) <= longest:
            yield f"{path}: the key has {len(key)} characters; a tag key is 1 to {longest} (EC2 tag restrictions)"
        if key.lower().startswith("aws:"):
            yield f"{path}: the aws: prefix is reserved for AWS (AWS tag restrictions); rename the tag"
        if key == "Name" or key.lower().startswith("stackkit:"):
            yield f"{path}: stackkit sets Name and the stackkit: tags itself; rename the tag"
        if not aws_rules.tag_text_ok(key) or not aws_rules.tag_text_ok(value):
            yield (f"{path}: AWS tags allow only letters, digits, spaces and + - = . _ : / @ in keys and values "
                   "(AWS tag restrictions)")
        if len(value) > aws_rules.TAG_VALUE_MAX:
            yield (f"{path}: the value has {len(value)} characters; a tag value is at most {aws_rules.TAG_VALUE_MAX} "
                   "(AWS tag restrictions)")


def availability_zones(cfg: StackConfig, specs: dict[str, LayerSpec]) -> Iterator[str]:
    have, want = aws_rules.REGION_AZS.get(cfg.region), cfg.stack.network.az_count
    if have is not None and want > have:
        yield (f"stack.network.az_count: {want} AZs, but {cfg.region} offers {have} (EC2 DescribeAvailabilityZones); "
               f"set az_count to {have} or fewer, or pick a region with more AZs")


def layer_volumes(cfg: StackConfig, specs: dict[str, LayerSpec]) -> Iterator[str]:
    """A layer volume as it will be created: the layer.yaml volume with the stack's overrides over it, field by field."""
    for lname, layer in cfg.layers.items():
        spec = specs.get(lname)
        for vname, over in layer.volumes.items():
            base = spec.volume(vname) if spec is not None else None
            if base is None:
                continue    # checks.volume_overrides names the unknown volume
            merged = {k: v if (v := getattr(over, k)) is not None else getattr(base, k)
                      for k in ("type", "size_gb", "iops", "throughput")}
            for problem in aws_rules.ebs_problems(merged["type"], merged["size_gb"], merged["iops"], merged["throughput"]):
                yield f"layers.{lname}.volumes.{vname}: {problem} (layers/{lname}/layer.yaml and this override together)"


def database_identifiers(cfg: StackConfig, specs: dict[str, LayerSpec]) -> Iterator[str]:
    """A database key names its RDS instance and final snapshot (aws_rules.RDS_NAMES): RDS's identifier rules."""
    for key in sorted(cfg.resources.databases):
        names = [n.format(key=key) for n in aws_rules.RDS_NAMES]
        if not all(aws_rules.RDS_IDENTIFIER.fullmatch(n) for n in names):
            yield (f"resources.databases.{key}: the key names the RDS instance ({names[0][:-7]}...) and its final "
                   f"snapshot ({names[1]}), and an RDS identifier has no two hyphens in a row and does not end in one "
                   "(RDS CreateDBInstance DBInstanceIdentifier); rename the database, e.g. "
                   f"{'-'.join(p for p in key.split('-') if p) or 'db'}")


def regional_arns(cfg: StackConfig, specs: dict[str, LayerSpec]) -> Iterator[str]:
    """The SNS topic of the alarms and the load balancers' certificates: the stack's own region and partition."""
    if cfg.stack.notifications is not None:
        problem = aws_rules.same_region_arn_problem(cfg.stack.notifications.topic_arn, "sns", cfg.region,
                                                    "the alarms' SNS topic")
        if problem:
            yield f"stack.notifications.topic_arn: {problem}"
    for lname, layer in sorted(cfg.layers.items()):
        arn = layer.load_balancer.certificate_arn if layer.load_balancer is not None else None
        if arn is None:
            continue
        problem = aws_rules.same_region_arn_problem(arn, "acm", cfg.region, "an ACM certificate")
        m = aws_rules.ARN.fullmatch(arn)
        if problem is None and m is not None and not aws_rules.ACM_CERTIFICATE.fullmatch(m["resource"]):
            problem = f"{arn[:80]!r} names no certificate: its resource is certificate/<id> (ACM)"
        if problem:
            yield f"layers.{lname}.load_balancer.certificate_arn: {problem}"


def schedule_descriptions(cfg: StackConfig, specs: dict[str, LayerSpec]) -> Iterator[str]:
    """Each schedule's description, as stackkit writes it, fits EventBridge Scheduler's 512 characters."""
    for iname, inst in sorted(cfg.instances.items()):
        if inst.schedule is None:
            continue
        longest = max((inst.schedule.description(iname, a) for a in ("start", "stop")), key=len)
        if len(longest) > SCHEDULE_DESCRIPTION_MAX:
            yield (f"instances.{iname}.schedule: its schedules' description would have {len(longest)} characters "
                   f"(the days' ranges in it), and EventBridge Scheduler takes at most {SCHEDULE_DESCRIPTION_MAX} "
                   "(CreateSchedule Description); join adjacent ranges (08-12 and 12-18 are 08-18)")


def inline_policies(cfg: StackConfig, specs: dict[str, LayerSpec]) -> Iterator[str]:
    """Each role's inline policy, as the components will write it with a real-length account id, fits IAM's 10,240
    characters without white space (stackkit.aws.policies: tag conditions, so this holds at any stack size)."""
    where = policies.Account(cfg.stack.name, cfg.region, "123456789012")
    roles = {"the scheduler's": policies.scheduler(where),
             "the scaling function's": policies.scaler(where, f"{cfg.stack.name}-scaler"),
             "the wake function's": policies.wake(where, f"{cfg.stack.name}-wake")}
    for role, policy in roles.items():
        if policies.size(policy) > policies.INLINE_POLICY_MAX:
            yield (f"stack.name: {role} IAM policy would have {policies.size(policy)} characters; IAM takes at most "
                   f"{policies.INLINE_POLICY_MAX} per role (IAM quotas, role policy size); shorten the stack name")


CHECKS = (tags, availability_zones, layer_volumes, database_identifiers, regional_arns, schedule_descriptions,
          inline_policies)


def run_aws_checks(cfg: StackConfig, specs: dict[str, LayerSpec]) -> list[str]:
    return [problem for check in CHECKS for problem in check(cfg, specs)]
