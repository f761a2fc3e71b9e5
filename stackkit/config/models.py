"""The stack config: what a Pulumi.<stack>.yaml holds under the `stackkit:` namespace, as strict pydantic models.

Six keys: `stackkit:stack`, `stackkit:layers`, `stackkit:instances`, `stackkit:apps`, `stackkit:resources`,
`stackkit:users` (stackkit.config.users).
Every model refuses unknown keys. Secret fields are `SecretStr`: the loader checks they come from Pulumi secure values.
"""

from __future__ import annotations

import difflib
import re
from ipaddress import IPv4Network, collapse_addresses
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    StringConstraints,
    ValidationInfo,
    field_validator,
    model_validator,
)

from stackkit.config import aws_rules, instance_types
from stackkit.config.inputs import (
    SYSTEM_PATH_HINT,
    domain_problem,
    git_revision_problem,
    mount_point_problem,
    normalise_pem,
    source_url_problem,
    without_userinfo,
)
from stackkit.config.layerspec import VolumeType
from stackkit.config.load_based import LoadBased
from stackkit.config.schedule import Schedule
from stackkit.config.users import USER_NAME, UserSettings, public_key_problem

Name = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9-]{0,39}$")]
Nonce = int | str
# RFC 1123 host name label: letters, digits and '-', not at either end, at most 63; stackkit: lowercase, starting with a
# letter (it is also the instance's name in the cluster state).
HOSTNAME = r"^[a-z](?:[a-z0-9-]{0,61}[a-z0-9])?$"
# SSH from admin_cidrs: their union may cover at most one /8 (16,777,216 addresses). An office or VPN range is far
# smaller; anything larger (0.0.0.0/1 + 128.0.0.0/1, a /7) is the internet in all but name.
ADMIN_ADDRESSES_MAX = 2 ** 24
OS_USERS = {"debian-12": "admin", "ubuntu-24.04": "ubuntu"}


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


# --- stack -------------------------------------------------------------------------------------------------------------

class Network(_Strict):
    vpc_cidr: IPv4Network = IPv4Network("10.0.0.0/16")
    az_count: int = Field(default=2, ge=2, le=6)
    vpc_id: str | None = Field(default=None, pattern=r"^vpc-[0-9a-f]+$")
    public_subnet_ids: list[str] = []
    private_subnet_ids: list[str] = []
    # egress of the private subnets (a new VPC only): one NAT gateway for the stack, one per AZ, or none
    nat: Literal["single", "per_az", "none"] = "single"
    bastion: str | None = None      # the public instance SSH to private instances goes through (default: first public)

    @field_validator("vpc_cidr")
    @classmethod
    def _size(cls, v: IPv4Network) -> IPv4Network:
        if v.prefixlen > 20:
            raise ValueError(f"{v} is too small; use a /20 or larger (e.g. 10.0.0.0/16)")
        if v.prefixlen < aws_rules.VPC_PREFIX[0]:
            raise ValueError(f"{v} is too large: a VPC's block is between a /{aws_rules.VPC_PREFIX[0]} and a "
                             f"/{aws_rules.VPC_PREFIX[1]} netmask (EC2 CreateVpc); use a /16 to /20 (e.g. 10.0.0.0/16)")
        return v

    @model_validator(mode="after")
    def _existing(self) -> Network:
        if self.vpc_id:
            for key in ("public_subnet_ids", "private_subnet_ids"):
                if len(getattr(self, key)) < self.az_count:
                    raise ValueError(
                        f"an existing VPC needs {key} with one subnet per AZ ({self.az_count}, network.az_count)")
            if "nat" in self.model_fields_set:
                raise ValueError("an existing VPC brings its own NAT for its private subnets: remove nat "
                                 "(it only applies to the VPC stackkit creates)")
        elif self.public_subnet_ids or self.private_subnet_ids:
            raise ValueError("subnet ids are only used with an existing VPC: set vpc_id, or remove them")
        return self


RETIRE_LABEL = re.compile(r"^(instances\.[a-z][a-z0-9-]{0,39}\.(volumes\.[a-z][a-z0-9-]*|elastic_ip)"
                          r"|resources\.(volumes|elastic_ips|databases)\.[a-z][a-z0-9-]{0,39})$")


def _retire_label(label: str) -> str:
    if not RETIRE_LABEL.fullmatch(label):
        raise ValueError(f"{label[:60]!r} names no data holder: write instances.<name>.volumes.<volume>, "
                         "instances.<name>.elastic_ip or resources.<volumes|elastic_ips|databases>.<name>")
    return label


RetireLabel = Annotated[str, AfterValidator(_retire_label)]


# an SNS topic ARN (SNS CreateTopic Name: up to 256 letters, digits, hyphens and underscores; a FIFO topic ends .fifo)
SNS_TOPIC_ARN = re.compile(r"^arn:aws[a-z-]*:sns:[a-z]{2}(-gov)?-[a-z]+-\d:\d{12}:[A-Za-z0-9_-]{1,256}(\.fifo)?$")


class Notifications(_Strict):
    """Where the auto-healing alarms report (docs/concepts.md, "Auto healing"): an SNS topic of your own, its
    subscriptions (email, chat...) confirmed by their owners; its access policy lets cloudwatch.amazonaws.com publish."""

    topic_arn: str

    @field_validator("topic_arn")
    @classmethod
    def _arn(cls, v: str) -> str:
        if not SNS_TOPIC_ARN.fullmatch(v):
            raise ValueError(f"{v[:80]!r} is not an SNS topic ARN (arn:aws:sns:<region>:<account id>:<topic name>, "
                             "e.g. arn:aws:sns:eu-west-1:123456789012:ops-alerts)")
        return v


def _public_key(v: str) -> str:
    problem = public_key_problem(v)
    if problem:
        raise ValueError(problem)
    return v


# one OpenSSH public key line whose key data parses as its type (stackkit.config.users.public_key_problem)
SshPublicKey = Annotated[str, AfterValidator(_public_key)]


def _user_name(v: str) -> str:
    if not USER_NAME.fullmatch(v):
        raise ValueError(f"{v[:40]!r} is not a Linux user name: a lowercase letter or _, then lowercase letters, digits, "
                         "_ or -, at most 32 characters (Debian's useradd NAME_REGEX), e.g. admin")
    return v


class StackSettings(_Strict):
    name: Name
    os: Literal["debian-12", "ubuntu-24.04"] = "debian-12"
    ssh_user: Annotated[str, AfterValidator(_user_name)] | None = None
    ssh_public_key: SshPublicKey
    ssh_private_key: SecretStr
    # more public keys of the deploy user, authorized on every instance besides ssh_public_key's (the users step
    # writes exactly these): how a key pair is rotated without losing an instance (docs/lifecycle.md)
    ssh_authorized_keys: list[SshPublicKey] = []
    admin_cidrs: list[IPv4Network] = Field(min_length=1)
    network: Network = Network()
    attributes: dict[str, Any] = {}
    configure_nonce: Nonce = 0
    tags: dict[str, str] = {}
    # data holders (stackkit.cluster.data) this up may delete: without an entry, an edit that loses one is refused
    retire: list[RetireLabel] = []
    notifications: Notifications | None = None     # the SNS topic the auto-healing alarms notify

    @property
    def user(self) -> str:
        return self.ssh_user or OS_USERS[self.os]

    @field_validator("admin_cidrs")
    @classmethod
    def _no_world(cls, v: list[IPv4Network]) -> list[IPv4Network]:
        for net in v:
            if net.prefixlen == 0:
                raise ValueError(f"{net} would open SSH to the whole internet; list your office/VPN ranges instead")
        covered = sum(n.num_addresses for n in collapse_addresses(v))
        if covered > ADMIN_ADDRESSES_MAX:
            raise ValueError(f"together these ranges open SSH to {covered:,} addresses; stackkit allows at most one /8 "
                             f"({ADMIN_ADDRESSES_MAX:,}) so that SSH is never open to the internet in all but name; "
                             "list your office/VPN ranges instead")
        return v


# --- layers ------------------------------------------------------------------------------------------------------------

class LoadBalancer(_Strict):
    listener_port: int = Field(default=80, ge=1, le=65535)
    certificate_arn: str | None = Field(default=None, pattern=r"^arn:aws[a-z-]*:acm:")
    health_check_path: str | None = None
    deregistration_delay: int = Field(default=30, ge=0, le=3600)

    @field_validator("health_check_path")
    @classmethod
    def _path(cls, v: str | None) -> str | None:
        if v is None:
            return v
        if not v.startswith("/") or len(v) > aws_rules.HEALTH_CHECK_PATH_MAX:
            raise ValueError(f"{v[:60]!r}: an ALB health check path starts with / and has at most "
                             f"{aws_rules.HEALTH_CHECK_PATH_MAX} characters (ELB CreateTargetGroup HealthCheckPath), "
                             "e.g. /stackkit-health")
        if not aws_rules.HEALTH_CHECK_PATH.fullmatch(v):
            raise ValueError(f"{v!r}: a health check path is a URL path: letters, digits and -._~!$&'()*+,;=:@%/? "
                             "(percent-encode anything else)")
        return v


class VolumeOverride(_Strict):
    size_gb: int | None = Field(default=None, ge=1)
    type: VolumeType | None = None
    iops: int | None = None
    throughput: int | None = None
    encrypted: bool | None = None


class Rolling(_Strict):
    batch: int | str = 1

    @field_validator("batch")
    @classmethod
    def _batch(cls, v: int | str) -> int | str:
        if isinstance(v, int) and v >= 1:
            return v
        if isinstance(v, str) and v.endswith("%") and v[:-1].isdigit() and 1 <= int(v[:-1]) <= 100:
            return v
        raise ValueError(f"{v!r} must be a number of instances (1, 2...) or a percentage from 1% to 100% (e.g. 25%)")

    def size(self, members: int) -> int:
        if isinstance(self.batch, int):
            return max(1, min(self.batch, members or 1))
        pct = int(self.batch.rstrip("%"))
        return max(1, (members * pct) // 100)


class LayerSettings(_Strict):
    attributes: dict[str, Any] = {}
    load_balancer: LoadBalancer | None = None
    elastic_ips: bool = False
    volumes: dict[str, VolumeOverride] = {}
    rolling: Rolling = Rolling()
    # OpsWorks' EnableAutoHealing, on by default: each instance gets CloudWatch alarms that recover it (system status
    # check) or reboot it (instance status check); an instance carrying a layer with false gets none
    auto_healing: bool = True
    # OpsWorks' load-based scaling: the layer's average CPU starts and stops its load-based instances
    load_based: LoadBased | None = None


# --- instances ---------------------------------------------------------------------------------------------------------

class InstanceSettings(_Strict):
    layers: list[str] = Field(min_length=1)
    type: str = Field(default="t3.small", pattern=r"^[a-z][a-z0-9-]*\.[a-z0-9-]+$")
    az: int = Field(default=0, ge=0)
    hostname: str | None = Field(default=None, pattern=HOSTNAME)
    attributes: dict[str, Any] = {}
    elastic_ip: str | None = None
    setup_nonce: Nonce = 0
    root_volume_gb: int = Field(default=16, ge=8, le=2048)
    # the SSH host key every connection pins (docs/design.md, "SSH host keys"): "derived" (installed at first boot),
    # the instance's own public key "ssh-ed25519 AAAA..." (an instance created before stackkit derived host keys), or
    # "unpinned" (no check at all: the bundles, secrets included, go to whoever answers at the address)
    host_key: str = "derived"
    # OpsWorks' time-based and load-based instances (one or the other): EventBridge Scheduler starts and stops it on a
    # weekly schedule, or its layer's load_based alarms do
    schedule: Schedule | None = None
    load_based: bool = False
    # an EC2 instance that already runs (`import opsworks --adopt`): the first up imports it (Pulumi's import option)
    # instead of creating one, protected, ignoring the inputs it was launched with (image, subnet, groups, user data)
    import_id: str | None = Field(default=None, pattern=r"^i-[0-9a-f]+$")

    @field_validator("host_key")
    @classmethod
    def _host_key(cls, v: str) -> str:
        if v in ("derived", "unpinned") or re.fullmatch(r"(ssh-ed25519|ecdsa-sha2-nistp(256|384|521)|ssh-rsa) "
                                                         r"[A-Za-z0-9+/]+={0,2}", v):
            return v
        raise ValueError(f"{v[:60]!r} is not a host key setting: use derived (the default), the instance's public host "
                         "key as one line without host or comment (ssh-ed25519 AAAA...), or unpinned")

    @field_validator("type")
    @classmethod
    def _known_type(cls, v: str) -> str:
        if not instance_types.known(v):
            raise ValueError(f"{v!r} is not an EC2 instance type stackkit knows; {instance_types.suggestions(v)} "
                             "(the types are listed in stackkit/config/instance_types.py)")
        return v


# --- apps --------------------------------------------------------------------------------------------------------------

class Source(_Strict):
    type: Literal["git", "archive"] = "git"
    url: str = Field(min_length=1)
    revision: str | None = None
    # HTTPS credentials of a private git repository: never in the URL (it lands in outputs, logs and process lists);
    # the deploy hands them to git through a credential helper file (0600), the password a secure value
    username: str | None = Field(default=None, pattern=r"^[A-Za-z0-9._~@+-]{1,256}$")
    password: SecretStr | None = None

    @field_validator("url")
    @classmethod
    def _url(cls, v: str, info: ValidationInfo) -> str:
        problem = source_url_problem(info.data.get("type", "git"), v)
        if problem:
            raise ValueError(f"{without_userinfo(v)!r} {problem}")
        return v

    @field_validator("revision")
    @classmethod
    def _revision(cls, v: str | None) -> str | None:
        problem = git_revision_problem(v) if v is not None else None
        if problem:
            raise ValueError(problem)
        return v

    @model_validator(mode="after")
    def _rev(self) -> Source:
        if (self.username is None) != (self.password is None):
            raise ValueError("source.username and source.password go together (HTTPS credentials of a private git "
                             "repository): set both, or neither")
        if self.password is not None and (self.type != "git" or not self.url.startswith("https://")):
            raise ValueError("source.username and source.password are HTTPS credentials of a git source: use an "
                             "https:// git URL, or an SSH URL with the deploy key instead")
        if self.type == "git" and not self.revision:
            raise ValueError("a git source needs a revision (a tag, branch or commit), e.g. revision: v1.2.0")
        if self.type == "archive" and self.revision:
            raise ValueError("an archive source has no revision: put the version in its URL")
        return self


class Ssl(_Strict):
    """PEM text only (CRLF read as LF): a certificate block, a private key block, a chain of certificate blocks."""

    certificate: str
    key: SecretStr
    chain: str | None = None

    @field_validator("certificate")
    @classmethod
    def _certificate(cls, v: str) -> str:
        return normalise_pem(v, "CERTIFICATE", many=False)

    @field_validator("chain")
    @classmethod
    def _chain(cls, v: str | None) -> str | None:
        return None if v is None else normalise_pem(v, "CERTIFICATE", many=True)

    @field_validator("key")
    @classmethod
    def _key(cls, v: SecretStr) -> SecretStr:
        return SecretStr(normalise_pem(v.get_secret_value(), "PRIVATE KEY", many=False, secret=True))


class Redeploy(_Strict):
    nonce: Nonce = 0
    instances: list[str] = []


def _domain(v: str) -> str:
    problem = domain_problem(v)
    if problem:
        raise ValueError(f"{v!r} {problem}" if problem.startswith("is ") else f"{v!r}: {problem}")
    return v


Domain = Annotated[str, AfterValidator(_domain)]
ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


class AppSettings(_Strict):
    source: Source
    layers: list[str] = Field(min_length=1)
    environment: dict[str, str] = {}
    secret_environment: dict[str, SecretStr] = {}
    domains: list[Domain] = []
    ssl: Ssl | None = None
    data_source: str | None = None
    redeploy: Redeploy = Redeploy()

    @field_validator("environment", "secret_environment")
    @classmethod
    def _env_names(cls, v: dict[str, Any]) -> dict[str, Any]:
        for k in v:
            if not ENV_NAME.fullmatch(k):
                raise ValueError(f"'{k}' is not a valid environment variable name (letters, digits, _)")
        return v


# --- registered resources ----------------------------------------------------------------------------------------------

class VolumeResource(_Strict):
    instance: str
    mount_point: str
    size_gb: int = Field(ge=1)
    type: VolumeType = "gp3"
    encrypted: bool = True
    iops: int | None = None
    az: int | None = Field(default=None, ge=0)
    import_id: str | None = Field(default=None, pattern=r"^vol-[0-9a-f]+$")
    # where an adopted volume is attached on its adopted instance (`import opsworks --adopt`: OpsWorks' Device): the
    # attachment is imported at that device instead of attached anew
    device: str | None = Field(default=None, pattern=r"^/dev/(sd|xvd)[b-z]$")

    @field_validator("mount_point")
    @classmethod
    def _mount_point(cls, v: str) -> str:
        problem = mount_point_problem(v)
        if problem:
            raise ValueError(f"{v!r} {problem}; {SYSTEM_PATH_HINT}")
        return v

    @model_validator(mode="after")
    def _ebs(self) -> VolumeResource:
        problems = aws_rules.ebs_problems(self.type, self.size_gb, self.iops, None)
        if problems:
            raise ValueError("; ".join(problems))
        return self


class ElasticIpResource(_Strict):
    import_id: str | None = Field(default=None, pattern=r"^eipalloc-[0-9a-f]+$")


class DatabaseResource(_Strict):
    engine: Literal["postgres", "mysql", "mariadb"] = "postgres"
    engine_version: str = Field(default="", validate_default=True)    # "": the engine's default (aws_rules)
    instance_class: str = Field(default="db.t4g.small", pattern=r"^db\.[a-z0-9]+\.[a-z0-9]+$")
    allocated_storage_gb: int = Field(default=20, ge=20, le=65536)
    name: str = Field(pattern=r"^[A-Za-z][A-Za-z0-9_]{0,62}$")
    username: str = Field(pattern=r"^[A-Za-z][A-Za-z0-9_]{0,15}$")
    password: SecretStr
    multi_az: bool = False
    backup_retention_days: int = Field(default=7, ge=0, le=35)
    deletion_protection: bool = True
    final_snapshot: bool = True
    # an RDS instance that already runs (its DB instance identifier): the first up imports it instead of creating one
    import_id: str | None = Field(default=None, pattern=r"^[A-Za-z][A-Za-z0-9-]{0,62}$")

    @property
    def port(self) -> int:
        return 5432 if self.engine == "postgres" else 3306

    @field_validator("password")
    @classmethod
    def _pw(cls, v: SecretStr) -> SecretStr:
        if len(v.get_secret_value()) < 8:
            raise ValueError("must be at least 8 characters (RDS refuses shorter master passwords)")
        if not aws_rules.RDS_PASSWORD.fullmatch(v.get_secret_value()):
            raise ValueError("must be 8 to 128 printable ASCII characters without '/', '\"', '@' or space (RDS "
                             "CreateDBInstance MasterUserPassword); the value itself is not shown")
        return v

    @field_validator("engine_version")
    @classmethod
    def _version(cls, v: str, info: ValidationInfo) -> str:
        engine = info.data.get("engine")
        if engine is not None and v == "":
            v = aws_rules.RDS_DEFAULT_VERSION[engine]
        if engine is not None and aws_rules.rds_major(engine, v) is None:
            offered = ", ".join(aws_rules.RDS_ENGINE_VERSIONS[engine])
            raise ValueError(f"{v!r} is not a {engine} version RDS offers (major versions {offered}, or one of their "
                             "minor versions such as "
                             f"{aws_rules.RDS_ENGINE_VERSIONS[engine][-1]}.1; RDS CreateDBInstance EngineVersion)")
        return v


class Resources(_Strict):
    volumes: dict[Name, VolumeResource] = {}
    elastic_ips: dict[Name, ElasticIpResource] = {}
    databases: dict[Name, DatabaseResource] = {}


# --- the whole stack ---------------------------------------------------------------------------------------------------

class StackConfig(_Strict):
    """Everything under `stackkit:` plus the region. Built and cross-checked by `stackkit.config.load`."""

    region: str = Field(pattern=r"^[a-z]{2}(-gov)?-[a-z]+-\d$")
    stack: StackSettings

    @field_validator("region")
    @classmethod
    def _known_region(cls, v: str) -> str:
        if v not in aws_rules.REGION_AZS:
            near = difflib.get_close_matches(v, sorted(aws_rules.REGION_AZS), n=2, cutoff=0.6)
            hint = f"; did you mean {' or '.join(near)}?" if near else ""
            raise ValueError(f"{v!r} is not an AWS region stackkit knows{hint} (known: "
                             f"{', '.join(sorted(aws_rules.REGION_AZS))})")
        return v
    layers: dict[Name, LayerSettings] = Field(min_length=1)
    instances: dict[Name, InstanceSettings] = Field(min_length=1)
    apps: dict[Name, AppSettings] = {}
    resources: Resources = Resources()
    users: dict[str, UserSettings] = {}     # per-user SSH and sudo on the instances of their layers

    def hostname(self, instance: str) -> str:
        return self.instances[instance].hostname or instance

    def layer_instances(self, layer: str) -> list[str]:
        return sorted(n for n, i in self.instances.items() if layer in i.layers)

    def app_instances(self, app: str) -> list[str]:
        layers = set(self.apps[app].layers)
        return sorted(n for n, i in self.instances.items() if layers & set(i.layers))

    def auto_healing(self, instance: str) -> bool:
        """Does this instance heal itself? Only when every one of its layers says so: a false is a deliberate choice."""
        return all(self.layers[la].auto_healing for la in self.instances[instance].layers if la in self.layers)

    def instance_apps(self, instance: str) -> list[str]:
        layers = set(self.instances[instance].layers)
        return sorted(a for a, s in self.apps.items() if layers & set(s.layers))

    def database_users(self, database: str) -> list[str]:
        """Layers that use a database: the layers of the apps whose data_source it is."""
        return sorted({la for a in self.apps.values() if a.data_source == database for la in a.layers})
