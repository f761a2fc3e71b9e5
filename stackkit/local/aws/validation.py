"""The input rules AWS enforces on the fields the program sets: the stand-in refuses what AWS would refuse, in Check,
with the property and the rule named, so `pulumi preview` on the local cloud fails where a real `pulumi up` would.

Each rule cites where AWS states it (API reference of the call that takes the value).
"""

from __future__ import annotations

import ipaddress
import itertools
import re
from collections.abc import Callable, Iterator
from typing import Any

from stackkit.aws.replacement import UNKNOWN
from stackkit.config.aws_rules import (
    EBS_IOPS,
    EBS_SIZE,
    EBS_THROUGHPUT,
    HEALTH_CHECK_PATH_MAX,
    RDS_IDENTIFIER,
    RDS_PASSWORD,
    REGIONS,
    SG_TEXT,
    TAG_KEY_MAX,
    TAG_LIMIT,
    TAG_VALUE_MAX,
    VPC_PREFIX,
)

# The facts (charsets, sizes, versions, regions) live in stackkit/config/aws_rules.py, which cites each; the load-time
# checks read the same table.
# CreateLoadBalancer / CreateTargetGroup Name: "maximum of 32 characters, must contain only alphanumeric characters or
# hyphens, and must not begin or end with a hyphen"; a load balancer name must not begin with "internal-".
LB_NAME = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9-]{0,30}[A-Za-z0-9])?$")

Failure = tuple[str, str]   # (property path, reason)


def _g(props: dict[str, Any], key: str) -> Any:
    return props.get(key)


def _known(v: Any) -> bool:
    return v is not UNKNOWN and v is not None


def _tags(type_: str, props: dict[str, Any]) -> Iterator[Failure]:
    tags = _g(props, "tags")
    if not isinstance(tags, dict):
        return
    if len(tags) > TAG_LIMIT:
        yield "tags", f"{len(tags)} tags: AWS allows at most {TAG_LIMIT} per resource"
    longest = TAG_KEY_MAX["ec2" if type_.startswith(("aws:ec2/", "aws:ebs/", "aws:vpc/")) else "other"]
    for k, v in tags.items():
        if not 1 <= len(k) <= longest:
            yield f"tags.{k}", f"tag keys are 1 to {longest} characters (AWS tag restrictions)"
        if k.lower().startswith("aws:"):
            yield f"tags.{k}", "the aws: tag prefix is reserved for AWS (AWS tag restrictions)"
        if _known(v) and len(str(v)) > TAG_VALUE_MAX:
            yield f"tags.{k}", (f"tag values are at most {TAG_VALUE_MAX} characters, this one has {len(str(v))} "
                                "(AWS tag restrictions)")


def _sg_text(path: str, v: Any) -> Iterator[Failure]:
    if not _known(v):
        return
    if len(v) > 255 or not SG_TEXT.fullmatch(v):
        yield path, (f"{v!r}: EC2 allows only a-z, A-Z, 0-9, spaces and ._-:/()#,@[]+=&;{{}}!$* in security group "
                     "descriptions, up to 255 characters")


def _security_group(p: dict[str, Any]) -> Iterator[Failure]:
    yield from _sg_text("description", _g(p, "description"))
    for key in ("ingress", "egress"):
        for i, rule in enumerate(_g(p, key) or []):
            if isinstance(rule, dict):
                yield from _sg_text(f"{key}[{i}].description", rule.get("description"))


def _ingress_rule(p: dict[str, Any]) -> Iterator[Failure]:
    yield from _sg_text("description", _g(p, "description"))
    if _known(_g(p, "cidrIpv4")) and _known(_g(p, "referencedSecurityGroupId")):
        yield "cidrIpv4", "a rule has one source: cidrIpv4 or referencedSecurityGroupId, not both"


def _vpc(p: dict[str, Any]) -> Iterator[Failure]:
    cidr = _g(p, "cidrBlock")
    if _known(cidr):
        net = ipaddress.ip_network(cidr, strict=False)
        if not VPC_PREFIX[0] <= net.prefixlen <= VPC_PREFIX[1]:
            yield "cidrBlock", f"{cidr}: a VPC's block is between a /16 and a /28 netmask (EC2 CreateVpc)"


def _lb_name(p: dict[str, Any], what: str) -> Iterator[Failure]:
    name = _g(p, "name")
    if _known(name) and (not LB_NAME.fullmatch(name) or name.startswith("internal-")):
        yield "name", (f"{name!r}: a {what} name has at most 32 letters, digits or hyphens, not at either end"
                       f"{' and does not begin with internal-' if what == 'load balancer' else ''}")


def _target_group(p: dict[str, Any]) -> Iterator[Failure]:
    yield from _lb_name(p, "target group")
    hc: Any = _g(p, "healthCheck")
    if isinstance(hc, dict) and _known(hc.get("path")):
        path = hc["path"]
        if not path.startswith("/") or len(path) > HEALTH_CHECK_PATH_MAX:
            yield "healthCheck.path", (f"{path!r}: a health check path starts with / and has at most "
                                       f"{HEALTH_CHECK_PATH_MAX} characters")


def _volume(p: dict[str, Any]) -> Iterator[Failure]:
    vtype, size, iops = _g(p, "type") or "gp2", _g(p, "size"), _g(p, "iops")
    if not _known(vtype):
        return
    if vtype in EBS_SIZE and _known(size):
        lo, hi = EBS_SIZE[vtype]
        if not lo <= int(size) <= hi:
            yield "size", f"{size} GiB: a {vtype} volume is {lo} to {hi} GiB (EBS CreateVolume)"
    if vtype in ("io1", "io2") and not _known(iops):
        yield "iops", f"a {vtype} volume needs iops (EBS CreateVolume)"
    if _known(iops) and vtype in EBS_IOPS:
        lo, hi = EBS_IOPS[vtype]
        if not lo <= int(iops) <= hi:
            yield "iops", f"{iops}: {vtype} takes {lo} to {hi} IOPS (EBS CreateVolume)"
    elif _known(iops) and vtype not in EBS_IOPS:
        yield "iops", f"a {vtype} volume takes no iops setting (EBS CreateVolume)"
    tp = _g(p, "throughput")
    if _known(tp) and (vtype != "gp3" or not EBS_THROUGHPUT[0] <= int(tp) <= EBS_THROUGHPUT[1]):
        yield "throughput", f"{tp}: only gp3 takes a throughput, {EBS_THROUGHPUT[0]} to {EBS_THROUGHPUT[1]} MiB/s"


def _rds(p: dict[str, Any]) -> Iterator[Failure]:
    pw = _g(p, "password")
    if _known(pw) and not RDS_PASSWORD.fullmatch(pw):
        yield "password", ("the master password is 8 to 128 printable ASCII characters without space, '/', '\"' or '@' "
                           "(RDS CreateDBInstance); the value itself is not shown")
    ident = _g(p, "identifier")
    if _known(ident) and not RDS_IDENTIFIER.fullmatch(ident):
        yield "identifier", (f"{ident!r}: 1 to 63 lower-case letters, digits or hyphens, starting with a letter, without '--' "
                             "and not ending with '-' (RDS CreateDBInstance)")


# CloudWatch PutMetricAlarm: AlarmName 1 to 255 characters; AlarmDescription up to 1024; Period 10, 20, 30 or a
# multiple of 60 seconds; EvaluationPeriods at least 1; AlarmActions and OKActions at most 5 each; an EC2 action is
# arn:aws:automate:<region>:ec2:stop|terminate|reboot|recover; Statistic and ComparisonOperator from their enums.
ALARM_STATISTICS = ("SampleCount", "Average", "Sum", "Minimum", "Maximum")
ALARM_COMPARISONS = ("GreaterThanOrEqualToThreshold", "GreaterThanThreshold", "LessThanThreshold",
                     "LessThanOrEqualToThreshold", "LessThanLowerOrGreaterThanUpperThreshold",
                     "LessThanLowerThreshold", "GreaterThanUpperThreshold")
EC2_ACTION = re.compile(r"^arn:aws[a-z-]*:automate:[a-z]{2}(-gov)?-[a-z]+-\d:ec2:(stop|terminate|reboot|recover)$")
ARN = re.compile(r"^arn:aws[a-z-]*:[a-z0-9-]+:[a-z0-9-]*:\d{12}:.+$")


def _metric_alarm(p: dict[str, Any]) -> Iterator[Failure]:
    name, description = _g(p, "name"), _g(p, "alarmDescription")
    if _known(name) and not 1 <= len(name) <= 255:
        yield "name", f"an alarm name has 1 to 255 characters, this one {len(name)} (CloudWatch PutMetricAlarm)"
    if _known(description) and len(description) > 1024:
        yield "alarmDescription", "an alarm description has at most 1024 characters (CloudWatch PutMetricAlarm)"
    period, periods = _g(p, "period"), _g(p, "evaluationPeriods")
    if _known(period) and not (int(period) in (10, 20, 30) or (int(period) > 0 and int(period) % 60 == 0)):
        yield "period", f"{period}: a period is 10, 20, 30 or a multiple of 60 seconds (CloudWatch PutMetricAlarm)"
    if _known(periods) and int(periods) < 1:
        yield "evaluationPeriods", f"{periods}: at least 1 (CloudWatch PutMetricAlarm)"
    if _known(_g(p, "statistic")) and p["statistic"] not in ALARM_STATISTICS:
        yield "statistic", f"{p['statistic']!r}: one of {', '.join(ALARM_STATISTICS)} (CloudWatch PutMetricAlarm)"
    op = _g(p, "comparisonOperator")
    if _known(op) and op not in ALARM_COMPARISONS:
        yield "comparisonOperator", f"{op!r} is not a CloudWatch comparison operator (PutMetricAlarm)"
    for key in ("alarmActions", "okActions", "insufficientDataActions"):
        actions = _g(p, key) or []
        if len(actions) > 5:
            yield key, f"{len(actions)} actions: at most 5 (CloudWatch PutMetricAlarm)"
        for i, arn in enumerate(actions):
            if not _known(arn):
                continue
            if ":automate:" in arn and not EC2_ACTION.fullmatch(arn):
                yield f"{key}[{i}]", (f"{arn!r}: an EC2 action is arn:aws:automate:<region>:ec2:stop, terminate, "
                                      "reboot or recover (CloudWatch PutMetricAlarm)")
            elif ":automate:" not in arn and not ARN.fullmatch(arn):
                yield f"{key}[{i}]", f"{arn!r} is not an ARN (CloudWatch PutMetricAlarm)"


def _metric_queries(p: dict[str, Any]) -> Iterator[Failure]:
    """PutMetricAlarm Metrics: at most 20 queries, at most 10 of them retrieving a metric (MetricStat), exactly one
    returning data; DatapointsToAlarm at most EvaluationPeriods."""
    dta, periods = _g(p, "datapointsToAlarm"), _g(p, "evaluationPeriods")
    if _known(dta) and _known(periods) and int(dta) > int(periods):
        yield "datapointsToAlarm", f"{dta}: at most evaluationPeriods ({periods}) (CloudWatch PutMetricAlarm)"
    queries = _g(p, "metricQueries") or []
    if not queries:
        return
    stats = [q for q in queries if _known(q) and q.get("metric")]
    if len(queries) > 20 or len(stats) > 10:
        yield "metricQueries", (f"{len(queries)} queries, {len(stats)} of them metrics: at most 20 and 10 (CloudWatch "
                                "PutMetricAlarm Metrics)")
    if sum(1 for q in queries if _known(q) and q.get("returnData")) != 1:
        yield "metricQueries", "exactly one query has returnData true (CloudWatch PutMetricAlarm Metrics)"


# EventBridge Scheduler CreateSchedule / CreateScheduleGroup: Name and GroupName 1 to 64 of [0-9a-zA-Z-_.];
# Description up to 512; ScheduleExpressionTimezone 1 to 50; FlexibleTimeWindow.Mode OFF or FLEXIBLE; State ENABLED or
# DISABLED; RetryPolicy MaximumRetryAttempts 0 to 185, MaximumEventAgeInSeconds 60 to 86400; a cron expression has six
# fields and a "?" in day-of-month or day-of-week.
SCHEDULER_NAME = re.compile(r"^[0-9a-zA-Z\-_.]{1,64}$")
SCHEDULER_CRON = re.compile(r"^cron\((\S+ ){5}\S+\)$")


def _scheduler_name(p: dict[str, Any], key: str) -> Iterator[Failure]:
    v = _g(p, key)
    if _known(v) and v is not None and not SCHEDULER_NAME.fullmatch(v):
        yield key, f"{v!r}: 1 to 64 letters, digits, '-', '_' or '.' (EventBridge Scheduler CreateSchedule)"


def _schedule(p: dict[str, Any]) -> Iterator[Failure]:
    yield from _scheduler_name(p, "name")
    yield from _scheduler_name(p, "groupName")
    expr, tz = _g(p, "scheduleExpression"), _g(p, "scheduleExpressionTimezone")
    if _known(expr) and expr.startswith("cron("):
        fields = expr[5:-1].split()
        if not SCHEDULER_CRON.fullmatch(expr) or "?" not in (fields[2], fields[4]):
            yield "scheduleExpression", (f"{expr!r}: cron(minutes hours day-of-month month day-of-week year) with a ? "
                                         "in day-of-month or day-of-week (EventBridge Scheduler)")
    if _known(tz) and tz is not None and not 1 <= len(tz) <= 50:
        yield "scheduleExpressionTimezone", "1 to 50 characters (EventBridge Scheduler CreateSchedule)"
    if _known(_g(p, "description")) and len(p.get("description") or "") > 512:
        yield "description", "at most 512 characters (EventBridge Scheduler CreateSchedule)"
    window = _g(p, "flexibleTimeWindow") or {}
    if _known(window.get("mode")) and window.get("mode") not in ("OFF", "FLEXIBLE"):
        yield "flexibleTimeWindow.mode", "OFF or FLEXIBLE (EventBridge Scheduler CreateSchedule)"
    if _known(_g(p, "state")) and p.get("state") not in (None, "ENABLED", "DISABLED"):
        yield "state", "ENABLED or DISABLED (EventBridge Scheduler CreateSchedule)"
    retry = (_g(p, "target") or {}).get("retryPolicy") or {}
    if _known(retry.get("maximumRetryAttempts")) and not 0 <= int(retry.get("maximumRetryAttempts", 0)) <= 185:
        yield "target.retryPolicy.maximumRetryAttempts", "0 to 185 (EventBridge Scheduler RetryPolicy)"
    age = retry.get("maximumEventAgeInSeconds")
    if _known(age) and age is not None and not 60 <= int(age) <= 86400:
        yield "target.retryPolicy.maximumEventAgeInSeconds", "60 to 86400 (EventBridge Scheduler RetryPolicy)"


# Lambda CreateFunction: FunctionName (a name) 1 to 64 of [a-zA-Z0-9-_]; Timeout 1 to 900 s; MemorySize 128 to 10240 MB;
# Description up to 256; ReservedConcurrentExecutions at least 0 (PutFunctionConcurrency); Environment variables at
# most 4 KB in total.
LAMBDA_NAME = re.compile(r"^[a-zA-Z0-9\-_]{1,64}$")


def _function(p: dict[str, Any]) -> Iterator[Failure]:
    name = _g(p, "name")
    if _known(name) and name is not None and not LAMBDA_NAME.fullmatch(name):
        yield "name", f"{name!r}: 1 to 64 letters, digits, '-' or '_' (Lambda CreateFunction FunctionName)"
    for key, low, high in (("timeout", 1, 900), ("memorySize", 128, 10240)):
        v = _g(p, key)
        if _known(v) and v is not None and not low <= int(v) <= high:
            yield key, f"{v}: {low} to {high} (Lambda CreateFunction)"
    if _known(_g(p, "description")) and len(p.get("description") or "") > 256:
        yield "description", "at most 256 characters (Lambda CreateFunction)"
    reserved = _g(p, "reservedConcurrentExecutions")
    if _known(reserved) and reserved is not None and int(reserved) < -1:
        yield "reservedConcurrentExecutions", f"{reserved}: 0 or more (Lambda PutFunctionConcurrency)"
    env = (_g(p, "environment") or {}).get("variables") or {}
    if all(_known(v) for v in env.values()) and sum(len(k) + len(str(v)) for k, v in env.items()) > 4096:
        yield "environment.variables", "at most 4 KB in total (Lambda quotas)"


# CloudWatch Logs CreateLogGroup / PutRetentionPolicy: a name of 1 to 512 [.-_/#A-Za-z0-9]; retention one of the
# listed day counts.
LOG_GROUP = re.compile(r"^[.\-_/#A-Za-z0-9]{1,512}$")
RETENTION_DAYS = (1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288,
                  3653)


def _log_group(p: dict[str, Any]) -> Iterator[Failure]:
    name, days = _g(p, "name"), _g(p, "retentionInDays")
    if _known(name) and name is not None and not LOG_GROUP.fullmatch(name):
        yield "name", f"{name!r}: 1 to 512 of letters, digits and . - _ / # (CloudWatch Logs CreateLogGroup)"
    if _known(days) and days is not None and int(days) not in RETENTION_DAYS:
        yield "retentionInDays", f"{days}: one of {', '.join(map(str, RETENTION_DAYS))} (CloudWatch Logs PutRetentionPolicy)"


# IAM PutRolePolicy: PolicyDocument at most 10,240 characters (the role's inline policies together).
def _role_policy(p: dict[str, Any]) -> Iterator[Failure]:
    doc = _g(p, "policy")
    if _known(doc) and doc is not None and len(doc) > 10240:
        yield "policy", f"{len(doc)} characters: at most 10,240 (IAM PutRolePolicy)"


RULES: dict[str, Callable[[dict[str, Any]], Iterator[Failure]]] = {
    "aws:ec2/securityGroup:SecurityGroup": _security_group,
    "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule": _ingress_rule,
    "aws:ec2/vpc:Vpc": _vpc,
    "aws:lb/loadBalancer:LoadBalancer": lambda p: _lb_name(p, "load balancer"),
    "aws:lb/targetGroup:TargetGroup": _target_group,
    "aws:ebs/volume:Volume": _volume,
    "aws:rds/instance:Instance": _rds,
    "aws:cloudwatch/metricAlarm:MetricAlarm": lambda p: itertools.chain(_metric_alarm(p), _metric_queries(p)),
    "aws:scheduler/schedule:Schedule": _schedule,
    "aws:scheduler/scheduleGroup:ScheduleGroup": lambda p: _scheduler_name(p, "name"),
    "aws:lambda/function:Function": _function,
    "aws:cloudwatch/logGroup:LogGroup": _log_group,
    "aws:iam/rolePolicy:RolePolicy": _role_policy,
}


def check(type_: str, props: dict[str, Any]) -> list[Failure]:
    """Every rule the inputs break: tags for every type, then the type's own."""
    rule = RULES.get(type_)
    return [*_tags(type_, props), *(rule(props) if rule else [])]


__all__ = ["REGIONS", "RULES", "check"]
