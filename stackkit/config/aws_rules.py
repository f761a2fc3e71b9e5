"""The input rules AWS states for the values a stack config sets: one owner for each fact, read by the load-time checks
(stackkit/config) and by the local cloud's stand-in provider (stackkit/local/aws/validation.py).

Each fact cites the API reference or guide of the AWS call that takes the value.
"""

from __future__ import annotations

import re

# Regions and how many AZs an account can use in each (EC2 DescribeRegions / DescribeAvailabilityZones, state
# "available", as the AWS regions-and-zones page lists them; us-west-1 and ap-northeast-1 have one more zone that is
# closed to new accounts, so it is not counted). `stack.network.az_count` must fit the region.
REGION_AZS: dict[str, int] = {
    "us-east-1": 6, "us-east-2": 3, "us-west-1": 2, "us-west-2": 4, "af-south-1": 3, "ap-east-1": 3, "ap-east-2": 3,
    "ap-south-1": 3, "ap-south-2": 3, "ap-northeast-1": 3, "ap-northeast-2": 4, "ap-northeast-3": 3,
    "ap-southeast-1": 3, "ap-southeast-2": 3, "ap-southeast-3": 3, "ap-southeast-4": 3, "ap-southeast-5": 3,
    "ap-southeast-7": 3, "ca-central-1": 3, "ca-west-1": 3, "eu-central-1": 3, "eu-central-2": 3, "eu-west-1": 3,
    "eu-west-2": 3, "eu-west-3": 3, "eu-south-1": 3, "eu-south-2": 3, "eu-north-1": 3, "il-central-1": 3,
    "me-south-1": 3, "me-central-1": 3, "mx-central-1": 3, "sa-east-1": 3, "us-gov-east-1": 3, "us-gov-west-1": 3,
}
REGIONS = frozenset(REGION_AZS)


def partition(region: str) -> str:
    """The partition of a region, the second field of every ARN in it (AWS General Reference, "Amazon Resource Names
    (ARNs)": aws, aws-cn for the China regions, aws-us-gov for AWS GovCloud (US))."""
    if region.startswith("us-gov-"):
        return "aws-us-gov"
    if region.startswith("cn-"):
        return "aws-cn"
    return "aws"


# ARN format (AWS General Reference, "Amazon Resource Names (ARNs)"): arn:partition:service:region:account-id:resource
ARN = re.compile(r"arn:(?P<partition>aws|aws-cn|aws-us-gov):(?P<service>[a-z0-9-]+):(?P<region>[a-z0-9-]*):"
                 r"(?P<account>\d{12}|):(?P<resource>.+)", re.DOTALL)
# ACM certificate ARN: arn:<partition>:acm:<region>:<account>:certificate/<uuid> (ACM API Reference, Certificate
# ARN); an ALB listener takes only a certificate of its own region (ELB CreateListener Certificates: "the
# certificate must be in the same Region as the load balancer")
ACM_CERTIFICATE = re.compile(r"certificate/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


def same_region_arn_problem(arn: str, service: str, region: str, what: str) -> str | None:
    """Why `arn` is not an ARN of `service` in the stack's own region and partition (None if it is). CloudWatch alarm
    actions notify SNS topics of the alarm's own region (CloudWatch PutMetricAlarm AlarmActions: "arn:aws:sns:region:
    account-id:sns-topic-name"), an ALB takes ACM certificates of its own region."""
    m = ARN.fullmatch(arn)
    want = partition(region)
    if m is None or m["service"] != service or not m["account"]:
        return (f"{arn[:80]!r} is not {what} ARN: arn:{want}:{service}:{region}:<12-digit account id>:...")
    if m["partition"] != want or m["region"] != region:
        return (f"{arn[:80]!r} is in {m['partition']}:{m['region'] or '(no region)'}, but the stack is in {want}:{region}; "
                f"{what} must be in the stack's own region and partition (arn:{want}:{service}:{region}:...)")
    return None

# CreateVpc: "The allowed block size is between a /16 netmask (65,536 IP addresses) and /28 netmask (16 IP addresses)."
VPC_PREFIX = (16, 28)

# Tags (AWS "Tagging your resources" restrictions; EC2 "Tag restrictions"): at most 50 per resource; keys 1 to 128
# characters (EC2: 127), values up to 256; the aws: prefix is reserved; letters, digits and spaces representable in
# UTF-8 and + - = . _ : / @.
TAG_LIMIT = 50
TAG_KEY_MAX = {"ec2": 127, "other": 128}
TAG_VALUE_MAX = 256
TAG_PUNCTUATION = "+-=._:/@ "


def tag_text_ok(text: str) -> bool:
    """Only the characters AWS tags allow: letters, digits, spaces and + - = . _ : / @."""
    return all(c.isalnum() or c in TAG_PUNCTUATION for c in text)


# EC2 CreateSecurityGroup / AuthorizeSecurityGroupIngress (IpRange/UserIdGroupPair Description): "Constraints: Up to
# 255 characters in length. Allowed characters are a-z, A-Z, 0-9, spaces, and ._-:/()#,@[]+=&;{}!$*"
SG_TEXT = re.compile(r"^[a-zA-Z0-9 ._\-:/()#,@\[\]+=&;{}!$*]*$")

# CreateTargetGroup HealthCheckPath: "[HTTP/HTTPS health checks] The destination for health checks on the targets",
# 1 to 1024 characters, starting with /. Its characters: a URL path and query (RFC 3986 pchar, / and ?).
HEALTH_CHECK_PATH_MAX = 1024
HEALTH_CHECK_PATH = re.compile(r"^/[A-Za-z0-9\-._~!$&'()*+,;=:@%/?]*$")

# EBS CreateVolume (Size, Iops, Throughput): size in GiB, IOPS and MiB/s per volume type; iops is required for io1 and
# io2, allowed for gp3, refused for the others; throughput is gp3 only.
EBS_SIZE = {"gp2": (1, 16384), "gp3": (1, 65536), "io1": (4, 16384), "io2": (4, 65536), "st1": (125, 16384),
            "sc1": (125, 16384), "standard": (1, 1024)}
EBS_IOPS = {"gp3": (3000, 80000), "io1": (100, 64000), "io2": (100, 256000)}
EBS_IOPS_REQUIRED = frozenset({"io1", "io2"})
EBS_THROUGHPUT = (125, 2000)   # gp3 only


def ebs_problems(vtype: str, size: int | None, iops: int | None, throughput: int | None) -> list[str]:
    """What EBS CreateVolume would refuse in a volume's type, size, IOPS and throughput (empty: nothing)."""
    out = []
    a = "an" if vtype.startswith("io") else "a"
    if size is not None and vtype in EBS_SIZE and not EBS_SIZE[vtype][0] <= size <= EBS_SIZE[vtype][1]:
        lo, hi = EBS_SIZE[vtype]
        out.append(f"size {size} GiB: {a} {vtype} volume is {lo} to {hi} GiB (EBS CreateVolume)")
    if iops is None and vtype in EBS_IOPS_REQUIRED:
        out.append(f"{a} {vtype} volume needs iops ({EBS_IOPS[vtype][0]} to {EBS_IOPS[vtype][1]}, EBS CreateVolume)")
    elif iops is not None and vtype in EBS_IOPS and not EBS_IOPS[vtype][0] <= iops <= EBS_IOPS[vtype][1]:
        lo, hi = EBS_IOPS[vtype]
        out.append(f"iops {iops}: {a} {vtype} volume takes {lo} to {hi} IOPS (EBS CreateVolume)")
    elif iops is not None and vtype not in EBS_IOPS:
        out.append(f"iops {iops}: {a} {vtype} volume takes no iops setting (EBS CreateVolume: gp3, io1 and io2 only); "
                   "remove it")
    if throughput is not None and vtype != "gp3":
        out.append(f"throughput {throughput}: only a gp3 volume takes a throughput (EBS CreateVolume); remove it")
    elif throughput is not None and not EBS_THROUGHPUT[0] <= throughput <= EBS_THROUGHPUT[1]:
        out.append(f"throughput {throughput}: a gp3 volume takes {EBS_THROUGHPUT[0]} to {EBS_THROUGHPUT[1]} MiB/s "
                   "(EBS CreateVolume)")
    return out


# CreateDBInstance MasterUserPassword: "Can include any printable ASCII character except "/", """, or "@". Can't
# contain spaces." Length 8 to 128 (PostgreSQL, MySQL, MariaDB).
RDS_PASSWORD = re.compile(r'^[!#-.0-?A-~]{8,128}$')   # printable ASCII without space, " / @
# DBInstanceIdentifier (and DBSnapshotIdentifier): "Must contain from 1 to 63 letters, numbers, or hyphens. First
# character must be a letter. Can't end with a hyphen or contain two consecutive hyphens." (RDS API Reference,
# CreateDBInstance); stored lower-case: terraform-provider-aws refuses upper case.
RDS_IDENTIFIER = re.compile(r"^[a-z](?!.*--)[a-z0-9-]{0,62}(?<!-)$")
# CreateDBInstance EngineVersion: the major versions RDS offers for new instances (RDS User Guide: "Supported
# PostgreSQL / MySQL / MariaDB major versions on Amazon RDS"). A minor version (16.4, 8.0.39, 10.11.9) is accepted
# when its major is listed.
RDS_ENGINE_VERSIONS = {
    "postgres": ("13", "14", "15", "16", "17"),
    "mysql": ("8.0", "8.4"),
    "mariadb": ("10.5", "10.6", "10.11", "11.4", "11.8"),
}

# the version a database gets when engine_version is left out: the newest major version of each engine that RDS
# offers for new instances at this release (RDS User Guide, "Supported PostgreSQL major versions", "Supported MySQL
# major versions", "Supported MariaDB major versions": PostgreSQL 16, MySQL 8.4 LTS, MariaDB 11.4 LTS), each checked
# against RDS_ENGINE_VERSIONS like a version written out
RDS_DEFAULT_VERSION = {"postgres": "16", "mysql": "8.4", "mariadb": "11.4"}
# what stackkit makes of a database key: the instance's identifier is Pulumi's auto-name "<key>-db-<7 random
# characters>" and its final snapshot "<key>-final" (stackkit/components/database.py); both must be RDS identifiers
RDS_NAMES = ("{key}-db-abcdefg", "{key}-final")


def rds_major(engine: str, version: str) -> str | None:
    """The listed major version `version` belongs to (None: RDS does not offer it)."""
    for major in RDS_ENGINE_VERSIONS.get(engine, ()):
        if version == major or (version.startswith(major + ".") and version[len(major) + 1:].isdigit()):
            return major
    return None
